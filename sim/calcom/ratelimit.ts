/**
 * Per-API-key rate limiting as Cal.com's throttler guard answers it: a rolling 60 s window, a 60 s block
 * once the limit is exceeded, and the `X-RateLimit-*-Default` headers on every authenticated answer. Cal.com
 * sends no `Retry-After`; neither does this.
 */

export const WINDOW_MS = 60_000;
export const BLOCK_MS = 60_000;

export interface RateLimitState {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window frees a request (or the block ends). */
  resetSeconds: number;
}

export function rateLimitHeaders(s: Pick<RateLimitState, 'limit' | 'remaining' | 'resetSeconds'>): Record<string, string> {
  return {
    'X-RateLimit-Limit-Default': String(s.limit),
    'X-RateLimit-Remaining-Default': String(Math.max(0, s.remaining)),
    'X-RateLimit-Reset-Default': String(Math.max(0, s.resetSeconds)),
  };
}

export class RateLimiter {
  private hits = new Map<string, number[]>();
  private blockedUntil = new Map<string, number>();

  /** Counts one request of `key` at `nowMs` (blocked requests are not counted). */
  hit(key: string, limit: number, nowMs: number): RateLimitState {
    const until = this.blockedUntil.get(key);
    if (until !== undefined && until > nowMs) {
      return { allowed: false, limit, remaining: 0, resetSeconds: Math.ceil((until - nowMs) / 1000) };
    }
    const recent = (this.hits.get(key) ?? []).filter((t) => t > nowMs - WINDOW_MS);
    recent.push(nowMs);
    this.hits.set(key, recent);
    if (recent.length > limit) {
      this.blockedUntil.set(key, nowMs + BLOCK_MS);
      return { allowed: false, limit, remaining: 0, resetSeconds: Math.ceil(BLOCK_MS / 1000) };
    }
    const oldest = recent[0] ?? nowMs;
    return {
      allowed: true,
      limit,
      remaining: limit - recent.length,
      resetSeconds: Math.max(1, Math.ceil((oldest + WINDOW_MS - nowMs) / 1000)),
    };
  }

  reset(): void {
    this.hits.clear();
    this.blockedUntil.clear();
  }
}
