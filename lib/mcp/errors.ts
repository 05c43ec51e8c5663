/**
 * How MCP tools fail. Caller mistakes — bad input, no such row, not allowed — are JSON-RPC errors
 * with a clear message (`McpToolError`, thrown); outcomes a client should read and act on — Cal.com
 * refused the slot (with free alternatives), Retell or Cal.com unavailable — are tool results with
 * `isError: true` (`toolFailure`), as the MCP spec advises for tool execution errors.
 *
 * Codes: -32602 invalid params (the standard code; the message names the field), -32002 not
 * found (MCP's "resource not found"), -32003 forbidden, -32001 unauthorized (only in the HTTP 401
 * body), -32603 internal (details logged, never sent).
 */
import type { z } from 'zod';

export const ERROR_CODES = {
  unauthorized: -32001,
  notFound: -32002,
  forbidden: -32003,
  invalidParams: -32602,
  internal: -32603,
} as const;

/**
 * An error the SDK's Protocol turns into `{ code, message, data }` as is. (The SDK's McpError
 * prefixes "MCP error <code>:" to its message, which the client then prefixes again.)
 */
export class McpToolError extends Error {
  override readonly name = 'McpToolError';
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export const invalidParams = (message: string, data?: unknown) => new McpToolError(ERROR_CODES.invalidParams, message, data);
/** The same answer whether the row does not exist or belongs to someone else: nothing leaks. */
export const notFound = (what: string) => new McpToolError(ERROR_CODES.notFound, `not found: ${what}`);
export const adminOnly = (why: string) => new McpToolError(ERROR_CODES.forbidden, `forbidden: admin only (${why})`);
/** For a branch token on a tool that acts on the whole company or Retell account. */
export const companyWideOnly = (what: string) =>
  new McpToolError(ERROR_CODES.forbidden, `forbidden: not for a branch token (${what} acts on the whole Retell account; use a company token or the admin token)`);

/** `tool: field: message; field: message`, naming every failing field. */
export function describeZodIssues(tool: string, error: z.ZodError): McpToolError {
  const issues = error.issues.map((i) => ({
    path: i.path.length ? i.path.join('.') : i.code === 'unrecognized_keys' ? (i as { keys?: string[] }).keys?.join(', ') ?? '(arguments)' : '(arguments)',
    message: i.message,
  }));
  return invalidParams(`invalid arguments for ${tool}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
}
