/**
 * Resilience helpers shared by every worker process. The circuit breaker keeps its state in Redis
 * so all processes open, probe and close together instead of each rediscovering a dead service.
 */
export {
  RedisBreaker,
  BreakerOpenError,
  breakerStateValue,
  type BreakerState,
  type BreakerOptions,
  type BreakerLogger,
  type BreakerStatus,
  type Admission,
} from './breaker';
