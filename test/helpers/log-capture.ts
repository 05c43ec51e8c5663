/** A pino logger whose lines (JSON, one per entry) are kept in memory for a test to read. */
import { Writable } from 'node:stream';
import { pino } from 'pino';

export function captureLogs(level: pino.Level = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, logger: pino({ level }, stream) };
}
