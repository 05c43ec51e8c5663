/**
 * Ends long-lived access (an /events stream) soon after its token is revoked. A request is
 * authenticated once; a stream may stay open for hours. Every `intervalMs` the watch asks the
 * database, in one query per process for every token with an open stream, which of them are
 * revoked or gone, and calls their `onRevoked`. Polling the database (not the token cache,
 * whose in-process copies live up to 30 s, nor a pub/sub message, which is lost when a
 * subscriber reconnects) makes it hold for a revocation from any process — `callbook tokens
 * revoke` included — within one interval.
 *
 * @example
 *   const stop = watch.watch(principal.tokenId, () => closeStream());
 */
import { and, inArray, isNull } from 'drizzle-orm';
import { apiTokens } from '../../drizzle/schema';
import type { Db } from '../db';
import type { Logger } from '../logger';

export const REVOCATION_CHECK_MS = 2_000;

export class RevocationWatch {
  private readonly watchers = new Map<number, Set<() => void>>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly db: Db,
    private readonly logger?: Logger,
    private readonly intervalMs = REVOCATION_CHECK_MS,
  ) {}

  /** Call `onRevoked` (once) when the token is revoked; returns the function that stops watching. */
  watch(tokenId: number, onRevoked: () => void): () => void {
    let set = this.watchers.get(tokenId);
    if (!set) this.watchers.set(tokenId, (set = new Set()));
    let fired = false;
    const cb = () => {
      if (fired) return;
      fired = true;
      onRevoked();
    };
    set.add(cb);
    this.schedule();
    return () => {
      const s = this.watchers.get(tokenId);
      s?.delete(cb);
      if (s?.size === 0) this.watchers.delete(tokenId);
      if (this.watchers.size === 0) this.stopTimer();
    };
  }

  /** Tokens watched (for tests). */
  size(): number {
    return this.watchers.size;
  }

  /** One round: which watched tokens are no longer valid? Exposed for tests. */
  async checkNow(): Promise<void> {
    const ids = [...this.watchers.keys()];
    if (ids.length === 0) return;
    const alive = await this.db
      .select({ id: apiTokens.id })
      .from(apiTokens)
      .where(and(inArray(apiTokens.id, ids), isNull(apiTokens.revokedAt)));
    const valid = new Set(alive.map((r) => r.id));
    for (const id of ids) {
      if (valid.has(id)) continue;
      const set = this.watchers.get(id);
      this.watchers.delete(id);
      for (const cb of set ?? []) {
        try {
          cb();
        } catch (err) {
          this.logger?.warn({ err, tokenId: id }, 'closing a revoked token’s stream failed');
        }
      }
    }
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = true;
      // A database hiccup keeps streams open until the next round; it is not a revocation.
      this.checkNow()
        .catch((err: unknown) => this.logger?.warn({ err: (err as Error).message }, 'token revocation check failed; retrying next round'))
        .finally(() => (this.running = false));
    }, this.intervalMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.watchers.clear();
    this.stopTimer();
  }
}
