/**
 * The MCP server: `createMcpServer(ctx, principal)` registers every tool for one caller. It is
 * built on the SDK's low-level `Server`, not `McpServer`: in SDK 1.32 McpServer turns every error a
 * tool throws — its own input validation included — into an `isError` result, while callbook
 * answers bad input, "not found" and "forbidden" as JSON-RPC errors with a clear message. Tool
 * schemas are zod (v4) objects; their JSON Schemas are computed once per process.
 *
 * @example
 *   const server = createMcpServer(ctx, { kind: 'admin' });
 *   await server.connect(transport);
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Principal } from '../auth/tokens';
import type { AppContext } from '../context';
import { bookingTools } from './bookings';
import { callTools } from './calls';
import { callsListTools } from './calls-list';
import { describeZodIssues, ERROR_CODES, invalidParams, McpToolError } from './errors';
import { operationTools } from './operations';
import { queueTools } from './queues';
import { retellTools } from './retell';
import { statsTools } from './stats';
import { tenantTools } from './tenants';
import { actorOf, sharedBookingDeps, type ToolContext, type ToolDef } from './tool';

export const SERVER_INFO = { name: 'callbook', version: '0.1.0' } as const;

const INSTRUCTIONS = [
  'callbook books Cal.com appointments from Retell phone calls for many companies and branches.',
  'Companies and branches are named by slug. A company or branch token is confined to its own company (branch):',
  'leave `company` out; other companies\' rows answer "not found". Times are read in the branch time zone.',
].join(' ');

/** Every tool, in the order tools/list shows them. */
export const TOOLS: readonly ToolDef[] = [
  ...callTools,
  ...operationTools,
  ...bookingTools,
  ...retellTools,
  // What an operator console needs (apps/console): overview, paged calls, queue depths, tenants.
  ...statsTools,
  ...callsListTools,
  ...queueTools,
  ...tenantTools,
];

let listed: Tool[] | undefined;

/** tools/list: the JSON Schema of each zod input (as the client sends it: defaults make fields optional). */
export function toolList(): Tool[] {
  listed ??= TOOLS.map((def) => {
    const { $schema: _ignored, ...schema } = z.toJSONSchema(def.input, { io: 'input' }) as Record<string, unknown>;
    return {
      name: def.name,
      title: def.title,
      description: def.description,
      inputSchema: schema as Tool['inputSchema'],
      ...(def.annotations ? { annotations: { title: def.title, ...def.annotations } } : {}),
    };
  });
  return listed;
}

const byName = new Map(TOOLS.map((t) => [t.name, t]));

export function createMcpServer(ctx: AppContext, principal: Principal): Server {
  const server = new Server(SERVER_INFO, { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS });
  const actor = actorOf(principal);
  const log = ctx.logger.child({ component: 'mcp', actor });

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: toolList() }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const name = request.params.name;
    const def = byName.get(name);
    if (!def) throw invalidParams(`unknown tool "${name}"; tools: ${TOOLS.map((t) => t.name).join(', ')}`);
    const parsed = def.input.safeParse(request.params.arguments ?? {});
    if (!parsed.success) throw describeZodIssues(name, parsed.error);
    const t: ToolContext = { ctx, principal, actor, booking: () => sharedBookingDeps(ctx), signal: extra.signal };
    const started = performance.now();
    try {
      const result = await def.handler(parsed.data, t);
      log.info({ tool: name, ms: Math.round(performance.now() - started), outcome: result.isError ? 'tool_error' : 'ok' }, 'mcp tool call');
      return result;
    } catch (err) {
      const ms = Math.round(performance.now() - started);
      if (err instanceof McpToolError) {
        log.info({ tool: name, ms, outcome: 'refused', code: err.code, reason: err.message }, 'mcp tool call');
        throw err;
      }
      log.error({ tool: name, ms, err }, 'mcp tool failed');
      throw new McpToolError(ERROR_CODES.internal, `internal error in ${name}; the server log has the details`);
    }
  });

  return server;
}
