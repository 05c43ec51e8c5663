/**
 * Typed HTTP errors with a machine-readable code; app.onError turns them into one JSON shape:
 * `{ "error": { "code", "message", "issues"? } }`.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly issues?: Array<{ path: string; message: string }>,
  ) {
    super(status, { message });
  }
}
