/**
 * An MCP client over Streamable HTTP for the tests of /mcp (the SDK's own Client), and the two
 * ways a tool call ends: its structured result, or the JSON-RPC error it was refused with.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';

/** A connected client sending `token` as its bearer token (none for null). */
export async function connectMcp(url: URL, token: string | null, name = 'callbook-test'): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(url, token === null ? {} : { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

/** The structured result of a successful call (the test fails on a tool error). */
export async function callTool<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
  expect(r.isError, `${name}: ${JSON.stringify(r.content)}`).toBeFalsy();
  return r.structuredContent as T;
}

/** The JSON-RPC error a call ends with, its message without the SDK's "MCP error <code>: " prefix; `data` only when the server sent some. */
export async function rpcError(client: Client, name: string, args: Record<string, unknown> = {}): Promise<{ code: number; message: string; data?: unknown }> {
  try {
    const r = await client.callTool({ name, arguments: args });
    throw new Error(`expected a JSON-RPC error from ${name}, got ${JSON.stringify(r)}`);
  } catch (err) {
    if (!(err instanceof McpError)) throw err;
    return { code: err.code, message: err.message.replace(/^MCP error -?\d+: /, ''), ...(err.data === undefined ? {} : { data: err.data }) };
  }
}
