// lib/events/index.ts
function eventsChannel(ns, companyId) {
  return `${ns}events:company:${companyId}`;
}
async function publishEvent(redis, ns, event, onError) {
  try {
    await redis.publish(eventsChannel(ns, event.companyId), JSON.stringify({ ...event, at: (/* @__PURE__ */ new Date()).toISOString() }));
  } catch (err) {
    onError?.(err);
  }
}

export {
  eventsChannel,
  publishEvent
};
//# sourceMappingURL=chunk-SC2WLIXO.js.map
