/**
 * One keep-alive connection pool per process for calls out (Cal.com, Retell): a booking costs a
 * TLS handshake only when the pool has no idle connection to that host. undici is Node's own
 * HTTP client; its Agent is sized explicitly here instead of relying on the global default.
 */
import { Agent, fetch as undiciFetch, request } from 'undici';
import { headerGetter, type HttpTransport } from './transport';

export const outboundAgent = new Agent({
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 10 * 60_000,
  connections: 64,
  connect: { timeout: 5_000 },
});

/** `fetch` over the shared pool; hand it to clients that take a fetch implementation (retell-sdk). */
export const keepAliveFetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
  undiciFetch(input as never, { ...(init as object), dispatcher: outboundAgent } as never)) as unknown as typeof fetch;

/** undici's `request` over the shared pool: the cheap transport for clients that take one (lib/calcom). */
export const keepAliveRequest: HttpTransport = async (url, init) => {
  const res = await request(url, { method: init.method as 'GET', headers: init.headers, body: init.body, signal: init.signal, dispatcher: outboundAgent });
  return { status: res.statusCode, headers: headerGetter(res.headers), text: await res.body.text() };
};
