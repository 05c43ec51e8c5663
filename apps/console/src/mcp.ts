/**
 * A small MCP client over Streamable HTTP for the browser: `initialize` once, then `tools/call`,
 * each a JSON-RPC 2.0 POST to /mcp with the token as a bearer. callbook's /mcp is stateless and
 * answers plain JSON, so no session id, no SSE stream. (The SDK's own client would bring its
 * schemas and transports into the page; this is all the console needs.)
 */
const PROTOCOL_VERSION = '2025-06-18';

/** The token was refused (401), or the address is throttled after wrong tokens (429). */
export class Unauthorized extends Error {
  constructor(readonly throttled: boolean) {
    super(throttled ? 'too many wrong tokens' : 'unauthorized');
  }
}

/** A JSON-RPC error: bad input, not found (-32002), forbidden (-32003). */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The tool ran and failed in a way to show (e.g. Cal.com refused). */
export class ToolFailure extends Error {}

interface RpcAnswer {
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

export class McpClient {
  private nextId = 1;
  private version = PROTOCOL_VERSION;

  constructor(
    readonly token: string,
    private readonly endpoint = '/mcp',
  ) {}

  private async post(body: Record<string, unknown>): Promise<Response> {
    const res = await fetch(this.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${this.token}`,
        'mcp-protocol-version': this.version,
      },
      body: JSON.stringify({ jsonrpc: '2.0', ...body }),
    });
    if (res.status === 401 || res.status === 429) throw new Unauthorized(res.status === 429);
    return res;
  }

  private async request(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const res = await this.post({ id: this.nextId++, method, params });
    const answer = (await res.json().catch(() => ({}))) as RpcAnswer;
    if (answer.error) throw new RpcError(answer.error.code, answer.error.message);
    if (!res.ok || !answer.result) throw new RpcError(res.status, `HTTP ${res.status} from /mcp`);
    return answer.result;
  }

  /** Checks the token and agrees on the protocol version. */
  async initialize(): Promise<{ name: string; version: string }> {
    const r = await this.request('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'callbook-console', version: '1' } });
    if (typeof r.protocolVersion === 'string') this.version = r.protocolVersion;
    await this.post({ method: 'notifications/initialized' });
    return r.serverInfo as { name: string; version: string };
  }

  /** A tool's structured result. */
  async tool<T>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    const r = await this.request('tools/call', { name, arguments: args });
    if (r.isError) {
      const content = r.content as Array<{ text?: string }> | undefined;
      throw new ToolFailure(content?.[0]?.text ?? `${name} failed`);
    }
    return r.structuredContent as T;
  }
}
