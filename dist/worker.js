import {
  runEntry
} from "./chunks/chunk-5REAPJLV.js";
import "./chunks/chunk-7WOGBSIY.js";
import "./chunks/chunk-54KOYG5C.js";

// workers/main.ts
await runEntry("callbook-worker", async () => (await import("./chunks/workers-AS3PQ3D6.js")).main());
//# sourceMappingURL=worker.js.map
