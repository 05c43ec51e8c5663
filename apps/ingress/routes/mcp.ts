/**
 * `/mcp`: callbook's MCP server over Streamable HTTP (JSON-RPC 2.0), stateless — each POST gets a
 * fresh server and transport bound to the caller, answered with plain JSON (no sessions, no SSE),
 * so any ingress process can take any request. GET (a server-sent-event stream) and DELETE (ending
 * a session) answer 405, as the spec allows a server without them.
 *
 * Auth: `Authorization: Bearer <ADMIN_TOKEN>` (every company) or a company/branch token made with
 * `callbook tokens create` (confined to it), read and checked by lib/auth/bearer — the gate /admin
 * and /events use. Missing or wrong → 401 with a JSON-RPC error body; wrong tokens count against
 * the per-address throttle those routes share (429 with Retry-After).
 */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Context, Hono } from 'hono';
import { authGate, credentialOf, type AuthGate } from '../../../lib/auth/bearer';
import type { AppContext } from '../../../lib/context';
import { ERROR_CODES } from '../../../lib/mcp/errors';
import { createMcpServer } from '../../../lib/mcp/server';
import { addressKey, clientIp } from '../client-ip';

export const MCP_PATH = '/mcp';
const MAX_BODY_BYTES = 1024 * 1024;

export interface McpRouteOptions {
  /** The token gate (default: the process's, shared with /admin and /events). */
  gate?: AuthGate;
}

function rpcError(c: Context, status: 401 | 405 | 429, code: number, message: string) {
  return c.json({ jsonrpc: '2.0', error: { code, message }, id: null }, status);
}

export function mountMcp(ctx: AppContext, opts: McpRouteOptions = {}): (app: Hono) => void {
  const gate = opts.gate ?? authGate(ctx);
  const log = ctx.logger.child({ component: 'mcp' });

  return (app) => {
    app.on(['POST', 'GET', 'DELETE'], MCP_PATH, async (c) => {
      const credential = credentialOf(c.req);
      const checked = await gate.check(addressKey(clientIp(c, ctx.config.TRUST_PROXY)), credential);
      if (!checked.ok) {
        if (checked.status === 429) {
          c.header('Retry-After', String(checked.retryAfter));
          return rpcError(c, 429, ERROR_CODES.unauthorized, checked.message);
        }
        c.header('WWW-Authenticate', 'Bearer realm="callbook mcp"');
        return rpcError(c, 401, ERROR_CODES.unauthorized, credential ? 'unauthorized: unknown or revoked token' : 'unauthorized: send Authorization: Bearer <ADMIN_TOKEN or a callbook token>');
      }
      const principal = checked.principal;
      if (c.req.method !== 'POST') {
        c.header('Allow', 'POST');
        return rpcError(c, 405, -32000, 'method not allowed: this MCP server is stateless (no SSE stream, no sessions); POST JSON-RPC messages');
      }
      const server = createMcpServer(ctx, principal);
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true, maxRequestBodySize: MAX_BODY_BYTES });
      transport.onerror = (err) => log.debug({ err: err.message }, 'mcp transport');
      await server.connect(transport);
      try {
        return await transport.handleRequest(c.req.raw);
      } finally {
        await server.close();
      }
    });
  };
}
