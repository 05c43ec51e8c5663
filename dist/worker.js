import {
  runEntry
} from "./chunks/chunk-5REAPJLV.js";
import "./chunks/chunk-7WOGBSIY.js";
import "./chunks/chunk-54KOYG5C.js";

// workers/main.ts
await runEntry("callbook-worker", async () => (await import("./chunks/workers-27VYPKNP.js")).main());
//# sourceMappingURL=worker.js.map
