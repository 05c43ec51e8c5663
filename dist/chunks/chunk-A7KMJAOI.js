import {
  jobIds
} from "./chunk-Z42SQZT6.js";

// lib/notifications/breaker-alert.ts
function breakerAlertRef(service, at) {
  return `${service}-${Math.floor(at / 6e4)}`;
}
function breakerOpenedAlert(queue, logger) {
  return (service, from, to) => {
    if (to !== "OPEN" || from !== "CLOSED") return;
    try {
      const at = Date.now();
      const job = { kind: "breaker_opened", service, at };
      queue.add("breaker_opened", job, { jobId: jobIds.notification("breaker_opened", breakerAlertRef(service, at)) }).catch((err) => logger.error({ err, service }, "could not queue the breaker_opened notification"));
    } catch (err) {
      logger.error({ err, service }, "could not queue the breaker_opened notification");
    }
  };
}

export {
  breakerAlertRef,
  breakerOpenedAlert
};
//# sourceMappingURL=chunk-A7KMJAOI.js.map
