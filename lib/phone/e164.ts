/**
 * The one E.164 rule of callbook: `+`, a non-zero country digit, 6 to 15 digits in all. Every
 * number that becomes a lookup key, a cache key, a customer key or a stored column passes it
 * first; tenants files, webhooks, live functions, MCP and CLI arguments all use this module.
 *
 * @example
 *   isE164('+4930123456')   // true
 *   e164.parse('030 123')   // throws: must be an E.164 number like +4930123456
 */
import { z } from 'zod';

export const E164_PATTERN = /^\+[1-9]\d{5,14}$/;

export const E164_MESSAGE = 'must be an E.164 number like +4930123456';

export const e164 = z.string().regex(E164_PATTERN, E164_MESSAGE);

export function isE164(value: unknown): value is string {
  return typeof value === 'string' && E164_PATTERN.test(value);
}
