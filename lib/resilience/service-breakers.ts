/**
 * The breakers callbook uses, one per external service. Options follow the design: open after
 * 5 consecutive failures, for 60 s, then one probe. The `mcp_circuit_breaker_state{service}`
 * gauge is read from Redis when Prometheus scrapes (exportBreakerState), not set at transitions:
 * a transition is seen by one process, the state in Redis is true for all.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { circuitBreakerState } from '../metrics';
import { breakerStateValue, RedisBreaker, type BreakerState } from './breaker';

export type ExternalService = 'calcom' | 'retell';

export function serviceBreaker(
  service: ExternalService,
  deps: { redis: Redis; ns: string; logger: Logger; onStateChange?: (service: string, from: BreakerState, to: BreakerState) => void },
  overrides: { openMs?: number; failureThreshold?: number } = {},
): RedisBreaker {
  return new RedisBreaker({
    redis: deps.redis,
    service,
    keyPrefix: deps.ns,
    logger: deps.logger.child({ component: 'breaker' }),
    ...overrides,
    onStateChange: deps.onStateChange,
  });
}

/** Refresh the gauge from Redis (state changes made by other processes). */
export async function exportBreakerState(breaker: RedisBreaker): Promise<void> {
  const st = await breaker.status();
  circuitBreakerState.set({ service: st.service }, breakerStateValue(st.state));
}
