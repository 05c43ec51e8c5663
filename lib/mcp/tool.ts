/**
 * The shape of one MCP tool: a name, a description, a zod input schema (strict: an unknown or
 * misspelt argument is refused, not ignored) and a handler that gets the parsed arguments and
 * who is asking. Handlers return plain objects (`ok`) or a tool failure (`toolFailure`), and throw
 * McpToolError for caller mistakes (lib/mcp/errors).
 */
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Principal } from '../auth/tokens';
import type { BookingDeps } from '../booking/book';
import { bookingDeps } from '../booking/deps';
import type { AppContext } from '../context';
import { e164 } from '../phone/e164';

export interface ToolContext {
  ctx: AppContext;
  principal: Principal;
  /** `mcp:admin` or `mcp:token:<id>`: the audit log's actor. */
  actor: string;
  /** Booking dependencies (Cal.com clients, limiter, breaker), built once per process. */
  booking(): BookingDeps;
  signal?: AbortSignal;
}

export interface ToolDef<S extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: S;
  annotations?: ToolAnnotations;
  handler: (args: z.output<S>, t: ToolContext) => Promise<CallToolResult>;
}

/** Keeps the handler's argument type tied to its schema. */
export function defineTool<S extends z.ZodObject>(def: ToolDef<S>): ToolDef {
  return def as unknown as ToolDef;
}

/** A successful result: the data as JSON text (what models read) and as structured content. */
export function ok(data: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(data, null, 2) }], structuredContent: data };
}

/** The tool ran and failed in a way the client should read (e.g. slot taken, with alternatives). */
export function toolFailure(message: string, data: Record<string, unknown> = {}): CallToolResult {
  return { content: [{ type: 'text', text: message }], structuredContent: { error: message, ...data }, isError: true };
}

export function actorOf(p: Principal): string {
  return p.kind === 'admin' ? 'mcp:admin' : `mcp:token:${p.tokenId}`;
}

const depsByContext = new WeakMap<AppContext, BookingDeps>();

export function sharedBookingDeps(ctx: AppContext): BookingDeps {
  let deps = depsByContext.get(ctx);
  if (!deps) {
    deps = bookingDeps(ctx);
    depsByContext.set(ctx, deps);
  }
  return deps;
}

/** Shared argument schemas. */
export const arg = {
  company: z.string().min(1).max(64).describe('company slug (a company or branch token: its own company, may be left out)'),
  branch: z.string().min(1).max(64).describe('branch slug (a branch token: its own branch, may be left out)'),
  phone: e164,
  appointmentId: z.number().int().positive().describe('appointment id (as booking_find / booking_create return it)'),
};
