// lib/db/breaker.ts
var DbUnavailableError = class extends Error {
  constructor(retryAt, cause) {
    super(`database unavailable (circuit open until ${new Date(retryAt).toISOString()})`, { cause });
    this.retryAt = retryAt;
  }
  retryAt;
  name = "DbUnavailableError";
};
function dbUnavailable(err) {
  for (let e = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (e instanceof DbUnavailableError) return e;
  }
  return void 0;
}
var CONNECTION_ERRORS = /* @__PURE__ */ new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EPIPE",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "POOL_CLOSED"
]);
function isConnectionError(err) {
  const e = err;
  if (!e) return false;
  if (e.code && CONNECTION_ERRORS.has(e.code)) return true;
  return /connect ETIMEDOUT|Connection lost|Pool is closed|Too many connections/i.test(e.message ?? "");
}
var DbBreaker = class {
  constructor(threshold = 5, openMs = 3e4, onChange) {
    this.threshold = threshold;
    this.openMs = openMs;
    this.onChange = onChange;
  }
  threshold;
  openMs;
  onChange;
  failures = 0;
  openedAt = 0;
  probing = false;
  stateValue = "CLOSED";
  get state() {
    if (this.stateValue === "OPEN" && Date.now() >= this.openedAt + this.openMs) return "HALF_OPEN";
    return this.stateValue;
  }
  get retryAt() {
    return this.openedAt + this.openMs;
  }
  /** Throws DbUnavailableError while open; in half-open lets one probe through. Returns whether this call is the probe. */
  admit() {
    const s = this.state;
    if (s === "CLOSED") return false;
    if (s === "HALF_OPEN" && !this.probing) {
      this.probing = true;
      return true;
    }
    throw new DbUnavailableError(s === "OPEN" ? this.retryAt : Date.now() + 1e3);
  }
  success(probe) {
    if (probe) this.probing = false;
    this.failures = 0;
    if (this.stateValue !== "CLOSED") this.move("CLOSED");
  }
  failure(probe) {
    if (probe) this.probing = false;
    this.failures++;
    if (probe || this.stateValue === "CLOSED" && this.failures >= this.threshold) {
      this.openedAt = Date.now();
      this.move("OPEN");
    }
  }
  /** A query the server answered (even with an error): not evidence against the connection. */
  neutral(probe) {
    this.success(probe);
  }
  move(to) {
    const from = this.stateValue;
    this.stateValue = to;
    if (from !== to) this.onChange?.(from, to);
  }
};

export {
  DbUnavailableError,
  dbUnavailable,
  isConnectionError,
  DbBreaker
};
//# sourceMappingURL=chunk-42NABTHE.js.map
