/**
 * Prometheus metrics. One naming rule: the `mcp_*` names stay as the earlier system's users
 * chart them (README, "Metrics"); every other metric of ours is `callbook_*` with its unit in the
 * name; prom-client's standard `process_*` / `nodejs_*` keep their names.
 * One registry per process. Every process publishes it to Redis (./publish.ts) and /api/metrics
 * serves each live process's series under its own `process` label (./scrape.ts), so Prometheus
 * scrapes one target however many processes run and a restart never lowers a counter.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const webhookTotal = new Counter({
  name: 'mcp_webhook_total',
  help: 'Retell webhooks received, by outcome',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const callsProcessedTotal = new Counter({
  name: 'callbook_calls_processed_total',
  help: 'Calls whose booking decision was taken, by outcome',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const bookingTotal = new Counter({
  name: 'mcp_booking_total',
  help: 'Booking attempts by outcome',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const appointmentsCreatedTotal = new Counter({
  name: 'callbook_appointments_created_total',
  help: 'Appointments created, by source',
  labelNames: ['source'] as const,
  registers: [registry],
});

export const circuitBreakerState = new Gauge({
  name: 'mcp_circuit_breaker_state',
  help: 'Circuit breaker state per service: 0 closed, 1 half-open, 2 open',
  labelNames: ['service'] as const,
  registers: [registry],
});

export const cacheHitsTotal = new Counter({
  name: 'mcp_cache_hits_total',
  help: 'Cache hits by level',
  labelNames: ['cache'] as const,
  registers: [registry],
});

export const apiDuration = new Histogram({
  name: 'mcp_api_duration_seconds',
  help: 'External API call duration',
  labelNames: ['service', 'method'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const jobDuration = new Histogram({
  name: 'callbook_job_duration_seconds',
  help: 'Job processing time per queue and outcome',
  labelNames: ['queue', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const dbQueryDuration = new Histogram({
  name: 'mcp_db_query_duration_seconds',
  help: 'Database statement duration by operation (verb and table)',
  labelNames: ['op'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5],
  registers: [registry],
});

export const dbBreakerState = new Gauge({
  name: 'callbook_db_breaker_state',
  help: 'Database circuit breaker per process: 0 closed, 1 half-open, 2 open (max over processes)',
  registers: [registry],
});

export const satisfactionScore = new Gauge({
  name: 'callbook_customer_satisfaction_ratio',
  help: 'Latest call sentiment per branch (company and branch slug): 1 positive, 0.5 neutral, 0 negative',
  labelNames: ['company', 'branch'] as const,
  registers: [registry],
});

/** 1 per queue this worker process serves: `absent(...)` of a queue alerts on a worker type with no live process. */
export const workerServing = new Gauge({
  name: 'callbook_worker_serving',
  help: 'Queues this worker process serves (1 each)',
  labelNames: ['queue'] as const,
  registers: [registry],
});

/** A worker that took no job while jobs waited and it had free slots, replaced (workers/supervise). */
export const workerReplacedTotal = new Counter({
  name: 'callbook_worker_replaced_total',
  help: 'Workers replaced because they took no job while jobs waited and they had free slots',
  labelNames: ['queue'] as const,
  registers: [registry],
});

export const inboundAnswersTotal = new Counter({
  name: 'callbook_inbound_answers_total',
  help: 'Inbound-call webhooks answered, by outcome: answered, deadline_missed (empty answer after INBOUND_DEADLINE_MS), failed, malformed, over_budget (the company over RATE_LIMIT_COMPANY_PER_MINUTE: empty answer)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** The routes with a body limit, as `callbook_bodies_too_large_total` labels them. */
export const BODY_LIMITED_ROUTES = ['retell_webhook', 'retell_function', 'retell_inbound', 'calcom_webhook'] as const;
export type BodyLimitedRoute = (typeof BODY_LIMITED_ROUTES)[number];

export const bodiesTooLargeTotal = new Counter({
  name: 'callbook_bodies_too_large_total',
  help: "Requests refused 413 for a body over the route's limit, by route: retell_webhook, retell_function, retell_inbound, calcom_webhook",
  labelNames: ['route'] as const,
  registers: [registry],
});

export const reconcileCallsTotal = new Counter({
  name: 'callbook_reconcile_calls_total',
  help: 'Ended calls reconcile looked at: found_missing (fed through the webhook path), already_processed, analysis_pending (retried next run), failed',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

// Every label value the design names exists from the start (at 0), so dashboards and alerts
// see the series before the first event.
for (const status of ['accepted', 'ignored']) webhookTotal.labels(status).inc(0);
for (const route of BODY_LIMITED_ROUTES) bodiesTooLargeTotal.labels(route).inc(0);
for (const status of ['created', 'failed', 'cached']) bookingTotal.labels(status).inc(0);
for (const outcome of ['booked', 'no_booking', 'failed']) callsProcessedTotal.labels(outcome).inc(0);
for (const cache of ['l1', 'l2']) cacheHitsTotal.labels(cache).inc(0);
for (const outcome of ['found_missing', 'already_processed', 'analysis_pending', 'failed']) reconcileCallsTotal.labels(outcome).inc(0);
for (const outcome of ['answered', 'deadline_missed', 'failed', 'malformed', 'over_budget']) inboundAnswersTotal.labels(outcome).inc(0);
