import {
  startTracing
} from "./chunk-7WOGBSIY.js";

// lib/entry.ts
async function runEntry(serviceName, main) {
  try {
    const tracing = await startTracing({ serviceName });
    if (tracing) {
      for (const signal of ["SIGTERM", "SIGINT"]) process.once(signal, () => void tracing.shutdown().catch(() => {
      }));
    }
    await main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}

export {
  runEntry
};
//# sourceMappingURL=chunk-5REAPJLV.js.map
