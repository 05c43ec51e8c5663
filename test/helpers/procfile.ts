/** The Procfile's process lines: name → the command's words (`node`, its flags, the script, its arguments). */
import { readFileSync } from 'node:fs';

export function readProcfile(path = 'Procfile'): Map<string, string[]> {
  return new Map(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => /^[a-z]+:/.test(l))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim().split(/\s+/)] as const),
  );
}
