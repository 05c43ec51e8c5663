import {
  registry
} from "./chunk-AQ2OROU7.js";

// lib/metrics/publish.ts
import { hostname } from "node:os";
var PUBLISH_INTERVAL_MS = 5e3;
function thisProcess(type) {
  return { id: `${hostname()}:${process.pid}`, type };
}
var metricsKeys = {
  registrySet: (ns) => `${ns}metrics:procs`,
  process: (ns, id) => `${ns}metrics:proc:${id}`
};
async function publishOnce(redis, ns, who, intervalMs = PUBLISH_INTERVAL_MS, snapshot = () => registry.getMetricsAsJSON()) {
  const ttl = intervalMs * 3;
  const body = { process: who, metrics: await snapshot() };
  await redis.set(metricsKeys.process(ns, who.id), JSON.stringify(body), "PX", ttl);
  await redis.zadd(metricsKeys.registrySet(ns), Date.now() + ttl, who.id);
}
function startMetricsPublisher(redis, ns, who, onError, intervalMs = PUBLISH_INTERVAL_MS) {
  let inFlight = Promise.resolve();
  const tick = () => {
    inFlight = publishOnce(redis, ns, who, intervalMs).catch(onError);
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await inFlight;
    await Promise.all([redis.del(metricsKeys.process(ns, who.id)), redis.zrem(metricsKeys.registrySet(ns), who.id)]).catch(onError);
  };
}

export {
  thisProcess,
  metricsKeys,
  startMetricsPublisher
};
//# sourceMappingURL=chunk-HRM5DEUL.js.map
