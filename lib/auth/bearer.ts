/**
 * How a request authenticates, and what the token it carries may see — the one module /admin,
 * /mcp and /events share:
 *
 * - `credentialOf` reads the secret a request presents: `Authorization: Bearer <t>`, or the
 *   password of HTTP basic auth (any user name), or — where a route allows it (EventSource
 *   cannot set headers) — `?token=<t>`.
 * - `AuthGate` turns it into a Principal behind one per-address throttle of wrong credentials:
 *   one instance per process (`authGate(ctx)`), so a guess spent on /mcp counts on /admin and
 *   /events too.
 * - `seesRow`, `scopeOf`, `isBranchToken` are the scope rule: the admin sees every company; a
 *   company token its company; a branch token only rows of its branch (a row of no branch — a
 *   company-wide one — is not a branch token's).
 *
 * The throttle and a correct token. Failures are counted per client address (the ingress's
 * TRUST_PROXY-aware `clientIp`). A flood of wrong tokens from one address locks out that address:
 * a credential it presents is refused with 429 until the window ends (at most a minute) without
 * being looked at — unless it is a credential this process has seen succeed before (a token in
 * use: an operator behind the same NAT as the guesser). Such a token is verified and passes, so
 * others' wrong tokens never lock out a token in use; a guess can never be "seen succeed before",
 * so the lockout still tells a guesser nothing and slows guessing. A token never used on this
 * process waits out the minute. A signed-in admin browser session (cookie) is not a presented
 * credential and is not locked out.
 *
 * @example
 *   const gate = authGate(ctx);
 *   const r = await gate.check(clientIp(c, trustProxy), credentialOf(c.req, { query: true }));
 *   if (!r.ok) return c.json({ error: { code: r.code, message: r.message } }, r.status);
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { AppContext } from '../context';
import { safeEqual } from '../crypto';
import { leaseFor, MinuteCounter } from '../ratelimit/minute-counter';
import { authenticate, type AuthDeps, type Principal } from './tokens';

/** The part of a request (Hono's `c.req`) a credential is read from. */
export interface CredentialSource {
  header(name: string): string | undefined;
  query(name: string): string | undefined;
}

/** The secret an Authorization header carries: a bearer token, or the password of basic auth. */
export function credentialFromHeader(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(authorization);
  if (!m) return undefined;
  if (m[1]!.toLowerCase() === 'bearer') return m[2];
  const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1) || undefined;
}

/** The credential a request presents: the Authorization header, else (`query: true`) `?token=`. */
export function credentialOf(req: CredentialSource, opts: { query?: boolean } = {}): string | undefined {
  const header = req.header('authorization');
  if (header) return credentialFromHeader(header);
  return opts.query ? req.query('token') || undefined : undefined;
}

/** True when the configured admin token is set and the presented one equals it (constant time). */
export function isAdminToken(adminToken: string, presented: string | undefined): boolean {
  if (!adminToken.trim() || !presented) return false;
  return safeEqual(presented, adminToken);
}

/**
 * Wrong credentials per client address in a fixed one-minute window. In memory: each ingress
 * process counts its own, which still caps guessing at `limit × processes` a minute.
 */
export class LoginThrottle {
  /** Least recently failing addresses are forgotten first: a spray from many addresses never unlocks the others. */
  private readonly failures = new LRUCache<string, { count: number; resetAt: number }>({ max: 10_000 });

  constructor(
    readonly limit = 10,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `key` may try again, or 0 when it may try now. */
  retryAfter(key: string): number {
    const entry = this.failures.get(key);
    if (!entry) return 0;
    const left = entry.resetAt - this.now();
    if (left <= 0) {
      this.failures.delete(key);
      return 0;
    }
    return entry.count >= this.limit ? Math.ceil(left / 1000) : 0;
  }

  fail(key: string): void {
    const t = this.now();
    const entry = this.failures.get(key);
    if (entry && entry.resetAt > t) entry.count++;
    else this.failures.set(key, { count: 1, resetAt: t + this.windowMs });
  }
}

export type GateResult =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401; code: 'unauthorized'; message: string }
  | { ok: false; status: 429; code: 'too_many_attempts' | 'rate_limited'; message: string; retryAfter: number };

/** Wrong credentials per client address and minute before 429, on /admin, /mcp and /events together. */
export const WRONG_CREDENTIALS_PER_MINUTE = 10;

export class AuthGate {
  constructor(
    /** The presented credential → who it is (null: nobody). */
    private readonly verify: (credential: string) => Promise<Principal | null>,
    readonly throttle: LoginThrottle = new LoginThrottle(WRONG_CREDENTIALS_PER_MINUTE),
    /** Requests per company (the admin counts as one company, `admin`) and minute, across processes. */
    private readonly budget?: MinuteCounter,
  ) {}

  /** SHA-256 of credentials that authenticated on this process (24 h): they pass a lockout. */
  private readonly inUse = new LRUCache<string, true>({ max: 10_000, ttl: 24 * 3600_000 });

  /** A gate over ADMIN_TOKEN and the stored company/branch tokens. */
  static forTokens(deps: AuthDeps, throttle?: LoginThrottle, budget?: MinuteCounter): AuthGate {
    return new AuthGate((credential) => authenticate(deps, credential), throttle, budget);
  }

  /** A gate that knows only the admin token (an admin area mounted without a database). */
  static adminOnly(adminToken: string, throttle?: LoginThrottle): AuthGate {
    return new AuthGate(async (credential) => (isAdminToken(adminToken, credential) ? { kind: 'admin' } : null), throttle);
  }

  /**
   * Who presents `credential` from `client`. A locked-out address is refused before the
   * credential is looked at, unless it is a credential in use (above); a wrong credential counts
   * against the address; no credential at all is a 401 that does not count.
   */
  async check(client: string, credential: string | undefined): Promise<GateResult> {
    const wait = this.throttle.retryAfter(client);
    const fingerprint = credential ? createHash('sha256').update(credential).digest('base64') : undefined;
    if (wait && !(fingerprint && this.inUse.has(fingerprint))) {
      return { ok: false, status: 429, code: 'too_many_attempts', message: `too many wrong tokens from this address; try again in ${wait} s`, retryAfter: wait };
    }
    if (!credential) return { ok: false, status: 401, code: 'unauthorized', message: 'no token presented' };
    const principal = await this.verify(credential);
    if (principal) {
      this.inUse.set(fingerprint!, true);
      const hit = await this.budget?.hit(principal.kind === 'admin' ? 'admin' : principal.companyId);
      if (hit?.over) return { ok: false, status: 429, code: 'rate_limited', message: `more than ${this.budget!.limitPerMinute} requests per minute for this company; try again in ${hit.retryAfter} s`, retryAfter: hit.retryAfter };
      return { ok: true, principal };
    }
    this.inUse.delete(fingerprint!); // revoked meanwhile
    this.throttle.fail(client);
    return { ok: false, status: 401, code: 'unauthorized', message: 'unknown or revoked token' };
  }
}

const gates = new WeakMap<AppContext, AuthGate>();

/** The process's gate for this context: /admin, /mcp and /events share its throttle. */
export function authGate(ctx: AppContext): AuthGate {
  let gate = gates.get(ctx);
  if (!gate) {
    // Its own family: operator traffic (a leaked branch token included) must never spend the
    // budget the company's calls need on the Retell and Cal.com routes.
    const budget = new MinuteCounter(ctx.redis, ctx.ns, 'operator', ctx.config.RATE_LIMIT_COMPANY_PER_MINUTE, leaseFor(ctx.config.RATE_LIMIT_COMPANY_PER_MINUTE));
    gate = AuthGate.forTokens({ db: ctx.database.db, cache: ctx.cache, adminToken: ctx.config.ADMIN_TOKEN }, undefined, budget);
    gates.set(ctx, gate);
  }
  return gate;
}

/** The company and branch a principal is confined to (null: not confined — the admin; a company token's branch). */
export function scopeOf(p: Principal): { companyId: number | null; branchId: number | null } {
  return p.kind === 'admin' ? { companyId: null, branchId: null } : { companyId: p.companyId, branchId: p.branchId };
}

/** A token confined to one branch: it may not use what acts on the whole company or account. */
export function isBranchToken(p: Principal): boolean {
  return p.kind === 'scoped' && p.branchId !== null;
}

/** Does the principal see this company at all? */
export function seesCompany(p: Principal, companyId: number): boolean {
  return p.kind === 'admin' || p.companyId === companyId;
}

/**
 * May the principal see a row (a call, an appointment, a live event) of this company and branch?
 * A branch token sees its branch's rows only; a row of no branch is company-wide, not its.
 */
export function seesRow(p: Principal, companyId: number, branchId: number | null | undefined): boolean {
  if (p.kind === 'admin') return true;
  if (p.companyId !== companyId) return false;
  return p.branchId === null || p.branchId === branchId;
}
