/**
 * Standalone Retell simulator (`tsx sim/retell/server.ts`): listens on 127.0.0.1:$PORT (default 5556) with the
 * demo data from `seedRetellDemo`, prints the base URL and API key, and stops on SIGINT/SIGTERM.
 */
import { createRetellSim, startRetellSim } from './app';
import { DEMO, seedRetellDemo } from './state';

async function main(): Promise<void> {
  const raw = process.env.PORT ?? '5556';
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be 0–65535, got ${raw}`);
  const keys = process.env.RETELL_SIM_API_KEYS?.split(',').map((k) => k.trim()).filter(Boolean);
  const sim = createRetellSim({ apiKeys: keys && keys.length > 0 ? keys : [DEMO.apiKey] });
  seedRetellDemo(sim);
  const running = await startRetellSim(sim, port);
  console.log(`Retell simulator listening on ${running.url}`);
  console.log(`  API key: ${keys?.[0] ?? DEMO.apiKey}`);
  console.log(`  try: curl -H 'Authorization: Bearer ${keys?.[0] ?? DEMO.apiKey}' ${running.url}/v2/list-phone-numbers`);
  const stop = () => {
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
