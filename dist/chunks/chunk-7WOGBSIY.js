// lib/tracing/index.ts
var telemetry;
function queueTelemetry() {
  return telemetry;
}
async function startTracing(o) {
  const env = o.env ?? process.env;
  if (!o.exporter && !env.OTEL_EXPORTER_OTLP_ENDPOINT) return void 0;
  const { register } = await import("node:module");
  register("@opentelemetry/instrumentation/hook.mjs", import.meta.url);
  const [sdk, { OTLPTraceExporter }, { registerInstrumentations }, { HttpInstrumentation }, { IORedisInstrumentation }, { MySQL2Instrumentation }, { UndiciInstrumentation }, { resourceFromAttributes }, { BullMQOtel }] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/instrumentation"),
    import("@opentelemetry/instrumentation-http"),
    import("@opentelemetry/instrumentation-ioredis"),
    import("@opentelemetry/instrumentation-mysql2"),
    import("@opentelemetry/instrumentation-undici"),
    import("@opentelemetry/resources"),
    import("bullmq-otel")
  ]);
  const provider = new sdk.NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME ?? o.serviceName }),
    spanProcessors: [o.exporter ? new sdk.SimpleSpanProcessor(o.exporter) : new sdk.BatchSpanProcessor(new OTLPTraceExporter())]
  });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Health checks and scrapes are not worth a trace each.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|api\/metrics)/.test(req.url ?? "") }),
      // Redis commands only inside a trace: BullMQ's polling would otherwise start thousands of root spans.
      new IORedisInstrumentation({ requireParentSpan: true }),
      new MySQL2Instrumentation(),
      new UndiciInstrumentation()
    ]
  });
  telemetry = new BullMQOtel({ tracerName: "callbook" });
  return {
    async shutdown() {
      await provider.shutdown();
    }
  };
}

export {
  queueTelemetry,
  startTracing
};
//# sourceMappingURL=chunk-7WOGBSIY.js.map
