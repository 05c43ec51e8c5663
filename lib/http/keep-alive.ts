/**
 * How callbook calls out, one keep-alive pool per process and protocol.
 *
 * - `keepAliveRequest` (the Cal.com client, lib/calcom): node:http / node:https with a keep-alive
 *   Agent. Measured for 5,000 small JSON GETs (client and server in one process; bench/RESULTS.md,
 *   "Per-call cost"): fetch ~480 µs of CPU per request at 134–140 MiB RSS, the `undici` package's
 *   `request` ~200 µs at 96–98 MiB (a second copy of undici beside Node's built-in one, which
 *   also pushed the workers over 150 MiB), node:http ~240 µs at 70 MiB. Redirects are returned,
 *   not followed; the body is decoded (gzip, deflate, br) and read as UTF-8 text; the client's own timer aborts a request.
 * - `keepAliveFetch` (retell-sdk, which takes a fetch): Node's own fetch, whose global Agent keeps
 *   connections alive for 4 s or the server's Keep-Alive hint. The SDK serves sync, reconcile and
 *   the CLI: minutes apart, where a pool's idle sockets would have closed anyway.
 */
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { headerGetter, type HttpAnswer, type HttpTransport } from './transport';

const AGENT_OPTIONS = {
  keepAlive: true,
  // Sockets per host; further requests wait in the agent (the Cal.com limiter paces them anyway).
  maxSockets: 64,
  // An idle socket closes after 30 s, or earlier at the server's Keep-Alive hint.
  timeout: 30_000,
  // The most recently used socket first: the least likely to have been closed by the server.
  scheduling: 'lifo',
} as const;

const clients = {
  'http:': { agent: new http.Agent(AGENT_OPTIONS), request: http.request },
  'https:': { agent: new https.Agent(AGENT_OPTIONS), request: https.request },
};

// Answers compressed as fetch would have asked for them (node:http neither asks nor decodes).
const DECODERS: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(zlib.gunzip),
  'x-gzip': promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
};

/** The body as text: decoded per Content-Encoding, a UTF-8 byte-order mark dropped (as fetch's text() does). */
async function bodyText(raw: Buffer, encoding: string | undefined): Promise<string> {
  const name = encoding?.trim().toLowerCase();
  const decode = name && name !== 'identity' ? DECODERS[name] : undefined;
  if (name && name !== 'identity' && !decode) throw Object.assign(new Error(`unsupported Content-Encoding ${name}`), { code: 'ERR_CONTENT_ENCODING' });
  const text = (decode ? await decode(raw) : raw).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export const keepAliveRequest: HttpTransport = (url, init) =>
  new Promise<HttpAnswer>((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch (err) {
      reject(err);
      return;
    }
    const client = clients[target.protocol as keyof typeof clients];
    if (!client) {
      reject(Object.assign(new TypeError(`unsupported protocol ${target.protocol} in ${target.origin}`), { code: 'ERR_INVALID_URL' }));
      return;
    }
    const headers: Record<string, string | number> = { 'accept-encoding': 'gzip, deflate, br', ...init.headers };
    if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
    const req = client.request(target, { method: init.method, headers, agent: client.agent, signal: init.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        bodyText(Buffer.concat(chunks), res.headers['content-encoding']).then(
          (text) => resolve({ status: res.statusCode ?? 0, headers: headerGetter(res.headers), text }),
          reject,
        );
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });

/** Node's own fetch, for clients that take a fetch implementation (retell-sdk). */
export const keepAliveFetch: typeof fetch = (input, init) => fetch(input, init);
