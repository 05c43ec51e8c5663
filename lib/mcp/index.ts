/** callbook's MCP server: tools over calls, bookings, operations and Retell, scoped by principal. */
export { createMcpServer, toolList, TOOLS, SERVER_INFO } from './server';
export { ERROR_CODES, McpToolError } from './errors';
