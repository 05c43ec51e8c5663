/**
 * Verifies `x-retell-signature` on the exact raw body and leaves the bytes in `c.var.rawBody`
 * for the handler (the body can be read only once). Keys are tried in order: the global
 * RETELL_API_KEY, then the per-company key of the dialled number when `keysFor` knows one.
 * Runs after the body limit, before any JSON parsing.
 */
import { createMiddleware } from 'hono/factory';
import type { Logger } from 'pino';
import { verifyRetellSignature, type SignatureVerdict } from '../../../../lib/retell/signature';
import { ApiError } from '../../errors';

export interface RetellSignatureOptions {
  apiKey: string;
  /** Extra keys to try for a body (e.g. the company key of its to_number). */
  keysFor?: (rawBody: Buffer) => Promise<string[]>;
  onRejected?: (verdict: SignatureVerdict) => void;
}

export type RetellSignatureEnv = { Variables: { rawBody: Buffer } };

export const retellSignature = (opts: RetellSignatureOptions) =>
  createMiddleware<RetellSignatureEnv>(async (c, next) => {
    const raw = Buffer.from(await c.req.arrayBuffer());
    const header = c.req.header('x-retell-signature');
    let verdict = verifyRetellSignature(raw, opts.apiKey, header);
    if (verdict === 'mismatch' && opts.keysFor) {
      for (const key of await opts.keysFor(raw)) {
        if (verifyRetellSignature(raw, key, header) === 'ok') {
          verdict = 'ok';
          break;
        }
      }
    }
    if (verdict !== 'ok') {
      opts.onRejected?.(verdict);
      const why = { missing: 'missing x-retell-signature header', malformed: 'malformed x-retell-signature header', stale: 'signature timestamp is outside the 5-minute window', mismatch: 'signature does not match the body' }[verdict];
      // Why, never the header or a key; the request-id logger (../request-id) when mounted.
      (c.var as { log?: Logger }).log?.warn({ path: c.req.path, reason: verdict }, `webhook refused (401): ${why}`);
      throw new ApiError(401, 'invalid_signature', why);
    }
    c.set('rawBody', raw);
    await next();
  });
