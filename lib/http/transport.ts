/**
 * The one thing an API client needs from HTTP: send a request, get status, headers and the body as
 * text. Two implementations: over any `fetch` (tests hand clients a fake one), and over node:http
 * on the shared keep-alive pool (./keep-alive `keepAliveRequest`), which is what the processes
 * use. `fetch` builds a WHATWG Request, Response, Headers and a body ReadableStream per
 * call; bench/live profiled the Cal.com client's fetch at ~15 % of the ingress's CPU.
 */
export interface HttpAnswer {
  status: number;
  headers: { get(name: string): string | null };
  text: string;
}

export interface HttpRequestInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

export type HttpTransport = (url: string, init: HttpRequestInit) => Promise<HttpAnswer>;

/** A transport over `fetch`; redirects are returned, never followed (as node:http does). */
export function fetchTransport(fetchImpl: typeof fetch): HttpTransport {
  return async (url, init) => {
    const res = await fetchImpl(url, { ...init, redirect: 'manual' });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
}

/** Case-insensitive `get` over a raw header record as node:http gives it (names lower-cased, repeats as arrays). */
export function headerGetter(raw: Record<string, string | string[] | undefined>): HttpAnswer['headers'] {
  return {
    get(name) {
      const v = raw[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

/**
 * Error codes (Node's, undici's, TLS's) that prove a request never left this machine: no
 * connection, no address, or a certificate refused before a byte of the request was sent. What
 * failed with one of these cannot have reached the other side, so it is safe to send again.
 */
export const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_INVALID_URL',
  'UND_ERR_CONNECT_TIMEOUT',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
