/**
 * The active trace id for log lines. Only @opentelemetry/api, which without a registered SDK
 * (OTEL_EXPORTER_OTLP_ENDPOINT unset) answers from a no-op and costs a function call.
 */
import { trace } from '@opentelemetry/api';

const INVALID = '00000000000000000000000000000000';

export function currentTraceId(): string | undefined {
  const id = trace.getActiveSpan()?.spanContext().traceId;
  return id && id !== INVALID ? id : undefined;
}
