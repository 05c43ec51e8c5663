/**
 * Standalone simulator: `tsx sim/calcom/server.ts` listens on PORT (default 5555) and HOST (default
 * 127.0.0.1; use 0.0.0.0 inside containers), seeds a demo account from CALCOM_SIM_* variables or defaults
 * (see `demoSeed`), and prints its base URL. Drive it with the `/__sim` admin API (faults, accounts,
 * event types, bookings, clock).
 */
import { createCalcomSim } from './app';
import { startCalcomSim } from './listen';
import { demoSeed } from './state';

const rawPort = process.env.PORT ?? '5555';
const port = Number(rawPort);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be an integer 0-65535, got "${rawPort}"`);
  process.exit(1);
}

const sim = createCalcomSim();
const seed = demoSeed(process.env);
sim.addAccount(seed.account);
for (const et of seed.eventTypes) sim.addEventType(et);

const running = await startCalcomSim(sim, port, process.env.HOST || '127.0.0.1');
console.log(`Cal.com v2 simulator listening on ${running.url}`);
console.log(`  API key ${seed.account.apiKey} (user ${seed.account.username}, ${seed.account.timeZone})`);
console.log(`  event types ${seed.eventTypes.map((e) => `${e.id} ${e.slug}`).join(', ')}`);
console.log(`  admin ${running.origin}/__sim (GET bookings|requests, POST faults|accounts|event-types|clock|reset)`);

const stop = () => {
  void running.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
