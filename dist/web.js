import {
  runEntry
} from "./chunks/chunk-5REAPJLV.js";
import "./chunks/chunk-7WOGBSIY.js";
import "./chunks/chunk-54KOYG5C.js";

// apps/ingress/main.ts
await runEntry("callbook-web", async () => (await import("./chunks/server-42ZDWXCC.js")).main());
//# sourceMappingURL=web.js.map
