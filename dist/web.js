import {
  runEntry
} from "./chunks/chunk-5REAPJLV.js";
import "./chunks/chunk-7WOGBSIY.js";
import "./chunks/chunk-54KOYG5C.js";

// apps/ingress/main.ts
await runEntry("callbook-web", async () => (await import("./chunks/server-QGI2H3GN.js")).main());
//# sourceMappingURL=web.js.map
