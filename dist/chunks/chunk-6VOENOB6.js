import {
  breakerOpenedAlert
} from "./chunk-A7KMJAOI.js";
import {
  publishEvent
} from "./chunk-SC2WLIXO.js";
import {
  apiDuration,
  circuitBreakerState
} from "./chunk-AQ2OROU7.js";

// lib/calcom/errors.ts
var CalcomError = class extends Error {
  name = "CalcomError";
  kind;
  status;
  /** Cal.com's exception name, e.g. `BadRequestException`, `ThrottlerException`. */
  code;
  method;
  path;
  route;
  /** Trying again (later) can succeed: server, timeout, network, rate_limited, invalid_response on a 2xx. */
  retryable;
  /** The request may have reached Cal.com and been acted on: reconcile before re-posting. */
  uncertain;
  /** rate_limited: epoch ms when the key's window frees up again. */
  retryAt;
  /** `error.details` of Cal.com's envelope, when present. */
  details;
  /** The caller's signal aborted the request; not counted as a service failure. */
  aborted;
  constructor(init) {
    const head = [init.status ?? init.kind, init.code].filter((x) => x !== void 0 && x !== "").join(" ");
    super(`Cal.com ${init.method} ${init.path} \u2192 ${head}: ${init.detail}`, init.cause !== void 0 ? { cause: init.cause } : void 0);
    this.kind = init.kind;
    this.method = init.method;
    this.path = init.path;
    this.retryable = init.retryable;
    this.uncertain = init.uncertain;
    this.aborted = init.aborted ?? false;
    if (init.route !== void 0) this.route = init.route;
    if (init.status !== void 0) this.status = init.status;
    if (init.code !== void 0) this.code = init.code;
    if (init.retryAt !== void 0) this.retryAt = init.retryAt;
    if (init.details !== void 0) this.details = init.details;
  }
};
function isServiceFailure(err) {
  if (!(err instanceof CalcomError) || err.aborted) return false;
  return err.kind === "server" || err.kind === "timeout" || err.kind === "network" || err.kind === "invalid_response";
}
function isUnsafeMethod(method) {
  return method !== "GET" && method !== "HEAD" && method !== "OPTIONS";
}
var MAX_DETAIL = 500;
function truncate(s) {
  return s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL)}\u2026` : s;
}
function messageOf(v) {
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.join("; ");
  return void 0;
}
function parseErrorBody(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    return { message: trimmed ? truncate(trimmed) : "(empty body)" };
  }
  if (typeof body === "object" && body !== null) {
    const o = body;
    const env = o.error;
    if (typeof env === "object" && env !== null) {
      const e = env;
      const out = {
        message: truncate(messageOf(e.message) ?? JSON.stringify(env))
      };
      if (typeof e.code === "string") out.code = e.code;
      if (e.details !== void 0) out.details = e.details;
      return out;
    }
    const msg = messageOf(o.message);
    if (msg !== void 0) {
      const out = { message: truncate(msg) };
      if (typeof o.error === "string") out.code = o.error;
      return out;
    }
  }
  return { message: truncate(text.trim() || "(empty body)") };
}
var OUT_OF_BOUNDS = /can[’']t be booked at the "start"/i;
var IN_PAST = /\bin the past\b/i;
var TAKEN = /already has booking|not available/i;
function classify400(message) {
  if (OUT_OF_BOUNDS.test(message)) return "out_of_bounds";
  if (IN_PAST.test(message)) return "in_past";
  if (TAKEN.test(message)) return "slot_unavailable";
  return "validation";
}
function retryAtFromReset(header, now = Date.now()) {
  const v = header === null || header === void 0 || header.trim() === "" ? NaN : Number(header);
  if (!Number.isFinite(v) || v < 0) return now + 6e4;
  if (v > 1e12) return v;
  if (v > 1e9) return v * 1e3;
  return now + Math.ceil(v * 1e3);
}
function errorFromResponse(f) {
  const { code, message, details } = parseErrorBody(f.bodyText);
  const base = { method: f.method, path: f.path, route: f.route, status: f.status, code, detail: message, details };
  const s = f.status;
  if (s === 429) {
    return new CalcomError({
      ...base,
      kind: "rate_limited",
      retryable: true,
      uncertain: false,
      retryAt: retryAtFromReset(f.headers.get("x-ratelimit-reset-default"), f.now)
    });
  }
  if (s >= 500) {
    return new CalcomError({ ...base, kind: "server", retryable: true, uncertain: isUnsafeMethod(f.method) });
  }
  if (s === 408) {
    return new CalcomError({ ...base, kind: "timeout", retryable: true, uncertain: isUnsafeMethod(f.method) });
  }
  const kind = s === 400 || s === 422 ? classify400(message) : s === 401 ? "auth" : s === 403 ? "forbidden" : s === 404 ? "not_found" : s === 409 ? "conflict" : s >= 400 ? "validation" : "invalid_response";
  return new CalcomError({ ...base, kind, retryable: false, uncertain: false });
}

// lib/calcom/schemas.ts
import { z } from "zod";
var nullishString = z.string().nullish().transform((v) => v ?? void 0);
var attendeeSchema = z.looseObject({
  name: z.string(),
  email: nullishString,
  timeZone: z.string(),
  phoneNumber: nullishString
});
var metadataSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullish().transform((m) => {
  const out = {};
  for (const [k, v] of Object.entries(m ?? {})) out[k] = String(v);
  return out;
});
var bookingSchema = z.looseObject({
  id: z.number().int(),
  uid: z.string().min(1),
  status: z.string(),
  start: z.string(),
  end: z.string(),
  eventTypeId: z.number().int(),
  metadata: metadataSchema,
  attendees: z.array(attendeeSchema),
  rescheduledToUid: nullishString,
  rescheduledFromUid: nullishString,
  title: nullishString,
  duration: z.number().nullish().transform((v) => v ?? void 0)
});
var paginationSchema = z.looseObject({ hasNextPage: z.boolean() });
var slotSchema = z.looseObject({ start: z.string(), end: z.string().optional() });
var slotsMapSchema = z.record(z.string(), z.array(slotSchema));
var eventTypeSchema = z.looseObject({
  id: z.number().int(),
  slug: z.string(),
  title: z.string(),
  lengthInMinutes: z.number(),
  lengthInMinutesOptions: z.array(z.number()).nullish(),
  hidden: z.boolean().optional(),
  minimumBookingNotice: z.number().nullish(),
  slotInterval: z.number().nullish(),
  bookingFields: z.array(z.unknown()).optional(),
  teamId: z.number().int().nullish(),
  schedulingType: z.string().nullish(),
  hosts: z.array(z.unknown()).optional()
});
var teamEventTypeSchema = eventTypeSchema.extend({
  teamId: z.number().int(),
  schedulingType: z.string().nullable(),
  hosts: z.array(z.unknown())
});
function successEnvelope(data) {
  return z.looseObject({ status: z.literal("success"), data });
}
var bookingResponseSchema = successEnvelope(bookingSchema);
var bookingListResponseSchema = z.looseObject({
  status: z.literal("success"),
  data: z.array(bookingSchema),
  pagination: paginationSchema
});
var slotsResponseSchema = successEnvelope(slotsMapSchema);
var eventTypeResponseSchema = successEnvelope(eventTypeSchema);
var eventTypeListResponseSchema = successEnvelope(z.array(eventTypeSchema));
var teamEventTypeListResponseSchema = successEnvelope(z.array(teamEventTypeSchema));

// lib/calcom/client.ts
var ROUTES = {
  "POST /bookings": "2024-08-13",
  "GET /bookings": "2024-08-13",
  "GET /bookings/:uid": "2024-08-13",
  "POST /bookings/:uid/reschedule": "2024-08-13",
  "POST /bookings/:uid/cancel": "2024-08-13",
  "GET /slots": "2024-09-04",
  "GET /event-types": "2024-06-14",
  "GET /event-types/:id": "2024-06-14",
  "GET /teams/:teamId/event-types": null
};
var DEFAULT_TIMEOUT_MS = 1e4;
var LIST_PAGE_SIZE = 100;
var LIST_MAX_PAGES = 100;
var NOT_SENT_CODES = /* @__PURE__ */ new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "ERR_INVALID_URL"]);
function causeCode(err) {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const code = e.code;
    if (typeof code === "string") return code;
    e = e.cause;
  }
  return void 0;
}
function describe(err) {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}
function setIf(q, name, v) {
  if (v !== void 0 && v !== "") q.set(name, String(v));
}
var CalcomClient = class {
  baseUrl;
  apiKey;
  timeoutMs;
  limiter;
  fetchImpl;
  constructor(opts) {
    if (!opts.baseUrl) throw new RangeError("CalcomClient: baseUrl is required");
    if (!opts.apiKey) throw new RangeError("CalcomClient: apiKey is required");
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.apiKey = opts.apiKey;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.limiter = opts.limiter;
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
  }
  /** Books `start` for an event type (POST /bookings); the body holds only whitelisted fields. */
  async createBooking(input, signal) {
    const a = input.attendee;
    const attendee = { name: a.name, timeZone: a.timeZone };
    if (a.email !== void 0) attendee.email = a.email;
    if (a.phoneNumber !== void 0) attendee.phoneNumber = a.phoneNumber;
    if (a.language !== void 0) attendee.language = a.language;
    const body = { start: input.start, eventTypeId: input.eventTypeId, attendee };
    if (input.metadata !== void 0) {
      const metadata = {};
      for (const [k, v] of Object.entries(input.metadata)) metadata[k] = String(v);
      body.metadata = metadata;
    }
    if (input.lengthInMinutes !== void 0) body.lengthInMinutes = input.lengthInMinutes;
    if (input.bookingFieldsResponses !== void 0) body.bookingFieldsResponses = { ...input.bookingFieldsResponses };
    if (input.location !== void 0) body.location = input.location;
    const res = await this.request(
      { route: "POST /bookings", path: "/bookings", body, schema: bookingResponseSchema },
      signal
    );
    return res.data;
  }
  /** One booking by uid (404 → not_found). */
  async getBooking(uid, signal) {
    const res = await this.request(
      { route: "GET /bookings/:uid", path: `/bookings/${encodeURIComponent(uid)}`, schema: bookingResponseSchema },
      signal
    );
    return res.data;
  }
  /** One page of bookings matching the filter (GET /bookings; no phone filter exists — match client-side). */
  async listBookings(filter, signal) {
    const q = new URLSearchParams();
    setIf(q, "eventTypeId", filter.eventTypeId);
    if (filter.eventTypeIds?.length) q.set("eventTypeIds", filter.eventTypeIds.join(","));
    setIf(q, "afterStart", filter.afterStart);
    setIf(q, "beforeEnd", filter.beforeEnd);
    if (filter.status?.length) q.set("status", filter.status.join(","));
    setIf(q, "attendeeEmail", filter.attendeeEmail);
    setIf(q, "attendeeName", filter.attendeeName);
    setIf(q, "bookingUid", filter.bookingUid);
    setIf(q, "teamId", filter.teamId);
    setIf(q, "take", filter.take);
    setIf(q, "skip", filter.skip);
    const res = await this.request(
      { route: "GET /bookings", path: "/bookings", query: q, schema: bookingListResponseSchema },
      signal
    );
    return { bookings: res.data, hasNextPage: res.pagination.hasNextPage };
  }
  /** Every page of bookings matching the filter (deduplicated by uid; `take` is the page size). */
  async listAllBookings(filter, signal) {
    const take = filter.take ?? LIST_PAGE_SIZE;
    let skip = filter.skip ?? 0;
    const seen = /* @__PURE__ */ new Set();
    const all = [];
    for (let page = 0; ; page++) {
      if (page >= LIST_MAX_PAGES) {
        throw new CalcomError({
          kind: "invalid_response",
          method: "GET",
          path: "/bookings",
          route: "GET /bookings",
          detail: `more than ${LIST_MAX_PAGES} pages of ${take} bookings; narrow the filter`,
          retryable: false,
          uncertain: false
        });
      }
      const { bookings, hasNextPage } = await this.listBookings({ ...filter, take, skip }, signal);
      for (const b of bookings) {
        if (seen.has(b.uid)) continue;
        seen.add(b.uid);
        all.push(b);
      }
      if (!hasNextPage || bookings.length === 0) return all;
      skip += take;
    }
  }
  /** Moves a booking (POST /bookings/:uid/reschedule); Cal.com answers with a new booking (new uid). */
  async rescheduleBooking(uid, body, signal) {
    const sent = { start: body.start };
    if (body.reschedulingReason !== void 0) sent.reschedulingReason = body.reschedulingReason;
    const res = await this.request(
      {
        route: "POST /bookings/:uid/reschedule",
        path: `/bookings/${encodeURIComponent(uid)}/reschedule`,
        body: sent,
        schema: bookingResponseSchema
      },
      signal
    );
    return res.data;
  }
  /** Cancels a booking (POST /bookings/:uid/cancel). */
  async cancelBooking(uid, body = {}, signal) {
    const sent = {};
    if (body.cancellationReason !== void 0) sent.cancellationReason = body.cancellationReason;
    const res = await this.request(
      {
        route: "POST /bookings/:uid/cancel",
        path: `/bookings/${encodeURIComponent(uid)}/cancel`,
        body: sent,
        schema: bookingResponseSchema
      },
      signal
    );
    return res.data;
  }
  /** Free slots by local date, rendered in `timeZone` (default UTC), with `end` (format=range). */
  async getSlots(q, signal) {
    const query = new URLSearchParams();
    query.set("eventTypeId", String(q.eventTypeId));
    query.set("start", q.start);
    query.set("end", q.end);
    setIf(query, "timeZone", q.timeZone);
    setIf(query, "duration", q.duration);
    query.set("format", "range");
    const res = await this.request({ route: "GET /slots", path: "/slots", query, schema: slotsResponseSchema }, signal);
    return res.data;
  }
  /** A user's (non-team) event types (GET /event-types?username=). */
  async listEventTypes(username, signal) {
    const query = new URLSearchParams({ username });
    const res = await this.request(
      { route: "GET /event-types", path: "/event-types", query, schema: eventTypeListResponseSchema },
      signal
    );
    return res.data;
  }
  /** One event type by id. */
  async getEventType(id, signal) {
    const res = await this.request(
      { route: "GET /event-types/:id", path: `/event-types/${encodeURIComponent(String(id))}`, schema: eventTypeResponseSchema },
      signal
    );
    return res.data;
  }
  /** A team's event types, with teamId, schedulingType and hosts (a managed parent cannot be booked). */
  async listTeamEventTypes(teamId, signal) {
    const res = await this.request(
      {
        route: "GET /teams/:teamId/event-types",
        path: `/teams/${encodeURIComponent(String(teamId))}/event-types`,
        schema: teamEventTypeListResponseSchema
      },
      signal
    );
    return res.data;
  }
  async request(spec, signal) {
    const method = spec.route.slice(0, spec.route.indexOf(" "));
    const version = ROUTES[spec.route];
    const fail = (init) => new CalcomError({ ...init, method, path: spec.path, route: spec.route });
    signal?.throwIfAborted();
    if (this.limiter) await this.limiter.acquire(this.apiKey, signal);
    signal?.throwIfAborted();
    const headers = { authorization: `Bearer ${this.apiKey}`, accept: "application/json" };
    if (version !== null) headers["cal-api-version"] = version;
    let body;
    if (spec.body !== void 0) {
      body = JSON.stringify(spec.body);
      headers["content-type"] = "application/json";
    }
    const qs = spec.query?.toString();
    const url = `${this.baseUrl}${spec.path}${qs ? `?${qs}` : ""}`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
    const unsafe = isUnsafeMethod(method);
    const endTimer = apiDuration.startTimer({ service: "calcom", method: spec.route });
    let status;
    let text;
    let resHeaders;
    try {
      const res = await this.fetchImpl(url, { method, headers, body, signal: combined, redirect: "manual" });
      status = res.status;
      resHeaders = res.headers;
      text = await res.text();
    } catch (err) {
      if (signal?.aborted && !timeout.aborted) {
        throw fail({
          kind: "network",
          code: "Aborted",
          detail: `aborted by the caller (${describe(signal.reason)})`,
          retryable: true,
          uncertain: unsafe,
          aborted: true,
          cause: signal.reason
        });
      }
      if (timeout.aborted) {
        throw fail({
          kind: "timeout",
          detail: `no answer within ${this.timeoutMs} ms`,
          retryable: true,
          uncertain: unsafe,
          cause: err
        });
      }
      const code = causeCode(err);
      throw fail({
        kind: "network",
        code,
        detail: describe(err),
        retryable: true,
        uncertain: unsafe && !(code !== void 0 && NOT_SENT_CODES.has(code)),
        cause: err
      });
    } finally {
      endTimer();
    }
    if (status < 200 || status >= 300) {
      throw errorFromResponse({ method, path: spec.path, route: spec.route, status, bodyText: text, headers: resHeaders });
    }
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      throw fail({
        kind: "invalid_response",
        status,
        detail: `2xx body is not JSON: ${text.slice(0, 200)}`,
        retryable: true,
        uncertain: unsafe
      });
    }
    const parsed = spec.schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
      throw fail({
        kind: "invalid_response",
        status,
        detail: `2xx body does not match the expected shape: ${issues}`,
        retryable: true,
        uncertain: unsafe,
        cause: parsed.error
      });
    }
    return parsed.data;
  }
};

// lib/calcom/rate-limiter.ts
import { createHash, randomUUID } from "node:crypto";
var COMMAND = "callbookCalcomRateLimit";
var RATE_LIMIT_LUA = `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
  return {1, 0}
end
local nth = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
local wait = tonumber(nth[2]) + window - now
if wait < 1 then wait = 1 end
return {0, wait}
`;
function positiveInt(name, v) {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`CalcomRateLimiter: ${name} must be a positive integer`);
  return v;
}
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
var CalcomRateLimiter = class {
  redis;
  keyPrefix;
  limit;
  windowMs;
  jitterMs;
  constructor(opts) {
    this.keyPrefix = opts.keyPrefix ?? "";
    this.limit = positiveInt("limitPerMinute", opts.limitPerMinute ?? 120);
    this.windowMs = positiveInt("windowMs", opts.windowMs ?? 6e4);
    this.jitterMs = Math.max(0, opts.jitterMs ?? 25);
    const redis = opts.redis;
    if (typeof redis[COMMAND] !== "function") {
      redis.defineCommand(COMMAND, { lua: RATE_LIMIT_LUA, numberOfKeys: 1 });
    }
    this.redis = redis;
  }
  /** The Redis key of an API key's window (hashed; never the key in clear). */
  keyFor(apiKey) {
    const hash = createHash("sha256").update(apiKey).digest("hex").slice(0, 16);
    return `${this.keyPrefix}mcp:calcom:ratelimit:${hash}`;
  }
  /** Waits until the key has a free request in the window and takes it; rejects with the reason if `signal` aborts. */
  async acquire(apiKey, signal) {
    const key = this.keyFor(apiKey);
    for (; ; ) {
      signal?.throwIfAborted();
      const [admitted, waitMs] = await this.redis[COMMAND](key, this.limit, this.windowMs, randomUUID());
      if (Number(admitted) === 1) {
        return;
      }
      await sleep(Number(waitMs) + Math.floor(Math.random() * (this.jitterMs + 1)), signal);
    }
  }
};

// lib/http/keep-alive.ts
import { Agent, fetch as undiciFetch } from "undici";
var outboundAgent = new Agent({
  keepAliveTimeout: 3e4,
  keepAliveMaxTimeout: 10 * 6e4,
  connections: 64,
  connect: { timeout: 5e3 }
});
var keepAliveFetch = ((input, init) => undiciFetch(input, { ...init, dispatcher: outboundAgent }));

// lib/resilience/breaker.ts
var BreakerOpenError = class extends Error {
  name = "BreakerOpenError";
  service;
  state;
  /** Epoch ms (Redis server clock) when a probe may go. */
  retryAt;
  constructor(service, retryAt, state = "OPEN") {
    const wait = Math.max(0, retryAt - Date.now());
    const why = state === "OPEN" ? "is OPEN" : "is HALF_OPEN with a probe in flight";
    super(`circuit breaker for ${service} ${why}; calls refused until ${new Date(retryAt).toISOString()} (~${Math.ceil(wait / 1e3)}s)`);
    this.service = service;
    this.state = state;
    this.retryAt = retryAt;
  }
};
function breakerStateValue(s) {
  switch (s) {
    case "CLOSED":
      return 0;
    case "HALF_OPEN":
      return 1;
    case "OPEN":
      return 2;
  }
}
var BREAKER_LUA = `
local key = KEYS[1]
local op = ARGV[1]
local isProbe = ARGV[2] == '1'
local threshold = tonumber(ARGV[3])
local openMs = tonumber(ARGV[4])
local probeMs = tonumber(ARGV[5])

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local h = redis.call('HMGET', key, 'state', 'failures', 'openedAt', 'openUntil', 'probeUntil')
local stored = h[1] or 'CLOSED'
local failures = tonumber(h[2]) or 0
local openedAt = tonumber(h[3]) or 0
local openUntil = tonumber(h[4]) or 0
local probeUntil = tonumber(h[5]) or 0

-- Effective state: an OPEN whose time has passed is HALF_OPEN with no probe out.
local state = stored
if stored == 'OPEN' then
  probeUntil = 0
  if now >= openUntil then state = 'HALF_OPEN' end
end

local allowed, probe = 0, 0
local from, to = '', ''

local function transition(newState)
  if state ~= newState then from = state; to = newState end
  state = newState
end

local function open()
  openedAt = now
  openUntil = now + openMs
  probeUntil = 0
  redis.call('HSET', key, 'state', 'OPEN', 'failures', failures, 'openedAt', openedAt, 'openUntil', openUntil)
  redis.call('HDEL', key, 'probeUntil')
  transition('OPEN')
end

local function close()
  -- CLOSED with zero failures is represented by the key's absence.
  redis.call('DEL', key)
  failures = 0; openedAt = 0; openUntil = 0; probeUntil = 0
  transition('CLOSED')
end

if op == 'admit' then
  if state == 'CLOSED' then
    allowed = 1
  elseif state == 'HALF_OPEN' and now >= probeUntil then
    -- Either the open period just ran out (probeUntil 0) or the previous probe is presumed lost.
    allowed = 1; probe = 1
    probeUntil = now + probeMs
    redis.call('HSET', key, 'state', 'HALF_OPEN', 'probeUntil', probeUntil)
    if stored == 'OPEN' then from = 'OPEN'; to = 'HALF_OPEN' end
  end
elseif op == 'success' then
  if stored == 'CLOSED' then
    if failures > 0 then close() end
  elseif isProbe and stored == 'HALF_OPEN' then
    close()
  end
  -- Non-probe results while OPEN/HALF_OPEN (calls admitted before it opened) are ignored.
elseif op == 'failure' then
  if stored == 'CLOSED' then
    failures = failures + 1
    if failures >= threshold then
      open()
    else
      redis.call('HSET', key, 'state', 'CLOSED', 'failures', failures)
    end
  elseif isProbe and stored == 'HALF_OPEN' then
    failures = failures + 1
    open()
  end
elseif op == 'release' then
  -- The probe ended with an outcome that says nothing about the service: free the slot now
  -- instead of waiting out probeTimeoutMs.
  if isProbe and stored == 'HALF_OPEN' then
    probeUntil = 0
    redis.call('HSET', key, 'probeUntil', 0)
  end
elseif op == 'reset' then
  if redis.call('EXISTS', key) == 1 then close() end
elseif op ~= 'status' then
  return redis.error_reply('unknown breaker op ' .. tostring(op))
end

local retryAt = 0
if state == 'OPEN' then
  retryAt = openUntil
elseif state == 'HALF_OPEN' then
  if probeUntil > 0 then retryAt = probeUntil else retryAt = openUntil end
end

return { allowed, probe, state, failures, openedAt, retryAt, from, to }
`;
var COMMAND2 = "callbookCircuitBreaker";
function positiveInt2(name, value) {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`breaker ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
function asState(s) {
  if (s === "CLOSED" || s === "OPEN" || s === "HALF_OPEN") return s;
  throw new Error(`circuit breaker: unexpected state ${JSON.stringify(s)} in Redis`);
}
var RedisBreaker = class {
  service;
  key;
  redis;
  failureThreshold;
  openMs;
  probeTimeoutMs;
  logger;
  onStateChange;
  constructor(opts) {
    if (!opts.service) throw new RangeError("breaker service name is required");
    this.service = opts.service;
    this.key = `${opts.keyPrefix ?? ""}mcp:breaker:${opts.service}`;
    this.failureThreshold = positiveInt2("failureThreshold", opts.failureThreshold ?? 5);
    this.openMs = positiveInt2("openMs", opts.openMs ?? 6e4);
    this.probeTimeoutMs = positiveInt2("probeTimeoutMs", opts.probeTimeoutMs ?? 3e4);
    this.logger = opts.logger;
    this.onStateChange = opts.onStateChange;
    const redis = opts.redis;
    if (typeof redis[COMMAND2] !== "function") {
      redis.defineCommand(COMMAND2, { lua: BREAKER_LUA, numberOfKeys: 1 });
    }
    this.redis = redis;
  }
  /** Ask before calling the service. `probe: true` means this call is the single HALF_OPEN probe and must report back. */
  async admit() {
    const o = await this.exec("admit", false);
    if (o.allowed) return { allowed: true, probe: o.probe };
    return { allowed: false, state: o.state === "OPEN" ? "OPEN" : "HALF_OPEN", retryAt: o.retryAt };
  }
  /** The call succeeded. In CLOSED this resets the failure count; a probe's success closes the breaker. */
  async success(probe) {
    await this.exec("success", probe);
  }
  /** The call failed. In CLOSED this counts towards the threshold; a probe's failure re-opens for openMs. */
  async failure(probe) {
    await this.exec("failure", probe);
  }
  /**
   * The call ended with an outcome that says nothing about the service's health (neither success
   * nor failure). For a probe this frees the probe slot so the next admit() may probe at once;
   * otherwise it is a no-op.
   */
  async release(probe) {
    if (probe) await this.exec("release", true);
  }
  /**
   * admit → run fn → record. Throws BreakerOpenError when refused. `isFailure` decides which errors
   * count (default: all); errors that don't count still propagate but are recorded neutrally (the
   * failure count is neither reset nor incremented; a probe slot is released). Errors while
   * recording the outcome are logged, never mask fn's own result or error.
   */
  async run(fn, isFailure = () => true) {
    const adm = await this.admit();
    if (!adm.allowed) throw new BreakerOpenError(this.service, adm.retryAt, adm.state);
    let result;
    try {
      result = await fn();
    } catch (err) {
      let counts;
      try {
        counts = isFailure(err);
      } catch {
        counts = true;
      }
      await this.record(counts ? "failure" : "release", adm.probe);
      throw err;
    }
    await this.record("success", adm.probe);
    return result;
  }
  /** Effective state as every process sees it (an OPEN whose time has passed reads HALF_OPEN). */
  async status() {
    const o = await this.exec("status", false);
    const s = { service: this.service, state: o.state, failures: o.failures };
    if (o.state !== "CLOSED") {
      s.openedAt = o.openedAt;
      s.retryAt = o.retryAt;
    }
    return s;
  }
  /** Force CLOSED with no failures (operator command). */
  async reset() {
    await this.exec("reset", false);
  }
  async record(op, probe) {
    try {
      await this.exec(op, probe);
    } catch (err) {
      this.logger?.warn({ service: this.service, op, probe, err }, "circuit breaker: could not record call outcome");
    }
  }
  async exec(op, probe) {
    const r = await this.redis[COMMAND2](this.key, op, probe ? 1 : 0, this.failureThreshold, this.openMs, this.probeTimeoutMs);
    const [allowed, isProbe, state, failures, openedAt, retryAt, from, to] = r;
    const out = {
      allowed: allowed === 1,
      probe: isProbe === 1,
      state: asState(state),
      failures: Number(failures),
      openedAt: Number(openedAt),
      retryAt: Number(retryAt)
    };
    if (from && to) this.transitioned(asState(from), asState(to), out);
    return out;
  }
  transitioned(from, to, o) {
    const obj = { service: this.service, from, to, failures: o.failures, ...to === "OPEN" ? { retryAt: o.retryAt } : {} };
    if (to === "OPEN") this.logger?.warn(obj, `circuit breaker for ${this.service} opened`);
    else if (to === "CLOSED") this.logger?.info(obj, `circuit breaker for ${this.service} closed`);
    else this.logger?.info(obj, `circuit breaker for ${this.service} half-open: sending one probe`);
    try {
      this.onStateChange?.(this.service, from, to);
    } catch (err) {
      this.logger?.warn({ service: this.service, err }, "circuit breaker: onStateChange threw");
    }
  }
};

// lib/resilience/service-breakers.ts
function serviceBreaker(service, deps, overrides = {}) {
  return new RedisBreaker({
    redis: deps.redis,
    service,
    keyPrefix: deps.ns,
    logger: deps.logger.child({ component: "breaker" }),
    ...overrides,
    onStateChange: deps.onStateChange
  });
}
async function exportBreakerState(breaker) {
  const st = await breaker.status();
  circuitBreakerState.set({ service: st.service }, breakerStateValue(st.state));
}

// lib/booking/deps.ts
function bookingDeps(ctx, extra = {}) {
  const limiter = new CalcomRateLimiter({ redis: ctx.redis, keyPrefix: ctx.ns, limitPerMinute: ctx.config.CALCOM_RATE_LIMIT_PER_MINUTE });
  const clients = /* @__PURE__ */ new Map();
  return {
    db: ctx.database.db,
    redis: ctx.redis,
    ns: ctx.ns,
    cipher: ctx.cipher,
    cache: ctx.cache,
    logger: ctx.logger.child({ component: "booking" }),
    breaker: serviceBreaker("calcom", {
      redis: ctx.redis,
      ns: ctx.ns,
      logger: ctx.logger,
      // CLOSED → OPEN queues one breaker_opened alert; never throws inside the transition.
      onStateChange: breakerOpenedAlert(ctx.queues.notifications, ctx.logger)
    }),
    notificationsQueue: ctx.queues.notifications,
    publish: (e) => publishEvent(ctx.redis, ctx.ns, e, (err) => ctx.logger.warn({ err }, "live event not published")),
    clientFor: (apiKey) => {
      let client = clients.get(apiKey);
      if (!client) {
        client = new CalcomClient({ baseUrl: ctx.config.CALCOM_API_URL, apiKey, limiter, timeoutMs: ctx.config.CALCOM_TIMEOUT_MS, fetch: keepAliveFetch });
        clients.set(apiKey, client);
      }
      return client;
    },
    ...extra
  };
}

export {
  BreakerOpenError,
  serviceBreaker,
  exportBreakerState,
  CalcomError,
  isServiceFailure,
  keepAliveFetch,
  bookingDeps
};
//# sourceMappingURL=chunk-6VOENOB6.js.map
