/**
 * The CLI reads the same environment as the service. When none is set and a sandbox
 * (`npm start`) has written .sandbox/env, that file is used, so `npx callbook demo-call`
 * works straight after `npm start` in another terminal.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, type Config } from '../../lib/config';

export const SANDBOX_ENV_FILE = resolve(process.cwd(), '.sandbox/env');

export function cliConfig(): Config {
  if (!process.env.DATABASE_URL && existsSync(SANDBOX_ENV_FILE)) process.loadEnvFile(SANDBOX_ENV_FILE);
  return loadConfig();
}
