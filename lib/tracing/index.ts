/**
 * OpenTelemetry traces, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test hands in an
 * exporter). Off, nothing of the SDK is even imported: the only cost is @opentelemetry/api's
 * no-op (lib/tracing/context). On, one trace runs from the webhook's HTTP request through the
 * webhooks job, the bookings job, the Cal.com request and the notification:
 * - HTTP (server and client), ioredis, mysql2 and undici (Cal.com, Retell) instrumentation;
 * - BullMQ's telemetry interface (bullmq-otel): `Queue.add` opens a producer span and stores its
 *   context in the job, the worker continues that trace (queueTelemetry() for Queue and Worker).
 * Must run before the instrumented packages are imported: the entry points (apps/ingress/main.ts,
 * workers/main.ts) call it first and import the service afterwards. The exporter honours the
 * standard OTEL_* variables (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_HEADERS, …).
 */
import type { Telemetry } from 'bullmq';
import type { SpanExporter } from '@opentelemetry/sdk-trace-node';

let telemetry: Telemetry | undefined;

/** BullMQ's telemetry for Queue and Worker options; undefined when tracing is off. */
export function queueTelemetry(): Telemetry | undefined {
  return telemetry;
}

export interface Tracing {
  /** Flush and stop (on shutdown). */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** `callbook-web`, `callbook-worker` … (OTEL_SERVICE_NAME wins). */
  serviceName: string;
  /** Tests: spans go here, one by one, instead of to OTLP. */
  exporter?: SpanExporter;
  env?: NodeJS.ProcessEnv;
}

export async function startTracing(o: TracingOptions): Promise<Tracing | undefined> {
  const env = o.env ?? process.env;
  if (!o.exporter && !env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  // ESM imports of the instrumented packages go through import-in-the-middle's loader hook.
  const { register } = await import('node:module');
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const [sdk, { OTLPTraceExporter }, { registerInstrumentations }, { HttpInstrumentation }, { IORedisInstrumentation }, { MySQL2Instrumentation }, { UndiciInstrumentation }, { resourceFromAttributes }, { BullMQOtel }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/instrumentation'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-ioredis'),
      import('@opentelemetry/instrumentation-mysql2'),
      import('@opentelemetry/instrumentation-undici'),
      import('@opentelemetry/resources'),
      import('bullmq-otel'),
    ]);
  const provider = new sdk.NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? o.serviceName }),
    spanProcessors: [o.exporter ? new sdk.SimpleSpanProcessor(o.exporter) : new sdk.BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Health checks and scrapes are not worth a trace each.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|api\/metrics)/.test(req.url ?? '') }),
      // Redis commands only inside a trace: BullMQ's polling would otherwise start thousands of root spans.
      new IORedisInstrumentation({ requireParentSpan: true }),
      new MySQL2Instrumentation(),
      new UndiciInstrumentation(),
    ],
  });
  telemetry = new BullMQOtel({ tracerName: 'callbook' }) as unknown as Telemetry;
  return {
    async shutdown() {
      await provider.shutdown();
    },
  };
}
