/**
 * The shape of Retell's call webhooks, validated at the edge. The call object keeps only what
 * callbook reads — every field of it is named below, checked and kept; a parse drops the rest
 * (Retell adds fields over time, and its call object carries the transcript with each word's
 * timing twice, about 20 KB a minute of conversation, which nothing here reads). So neither a
 * webhook job nor a live request holds them past the parse.
 */
import { z } from 'zod';
import { e164 } from '../phone/e164';

export const HANDLED_EVENTS = ['call_started', 'call_ended', 'call_analyzed'] as const;
export type HandledEvent = (typeof HANDLED_EVENTS)[number];

/**
 * Caps at the edge, each fitting the column the worker writes (with room for AES-GCM and base64
 * when the company encrypts PII): a body over them is answered 422 with the path, never a job
 * that fails five times on a too-long value. Variables are capped in number and key length; the
 * values callbook reads from them (name, e-mail, service, time) are bounded where they are read
 * (lib/calls/booking-intent).
 */
export const LIMITS = {
  /** calls.summary is TEXT (65,535 bytes): 10,000 characters of up to 4 bytes, sealed, still fit. */
  summary: 10_000,
  /** calls.transcript is MEDIUMTEXT (16 MiB). */
  transcript: 1_000_000,
  /** calls.sentiment is VARCHAR(16). */
  sentiment: 16,
  variables: 200,
  variableKey: 100,
} as const;

const vars = z
  .record(z.string().max(LIMITS.variableKey), z.unknown())
  .refine((v) => Object.keys(v).length <= LIMITS.variables, `at most ${LIMITS.variables} variables`);

/** Milliseconds since 1970, up to 9999-12-31 (DATETIME's end: a later one fails in the worker). */
const timestamp = z.number().int().nonnegative().max(253_402_300_799_999);

export const callSchema = z.object({
  call_id: z.string().min(1).max(100),
  agent_id: z.string().max(100).optional(),
  call_type: z.string().max(64).optional(),
  call_status: z.string().max(64).optional(),
  direction: z.enum(['inbound', 'outbound']).optional(),
  from_number: e164.optional(),
  to_number: e164.optional(),
  start_timestamp: timestamp.optional(),
  end_timestamp: timestamp.optional(),
  duration_ms: z.number().int().nonnegative().max(2_147_483_647).optional(),
  transcript: z.string().max(LIMITS.transcript).optional(),
  // Bytes, not characters: sealed for an encrypting company it must still fit VARCHAR(2048).
  recording_url: z.string().refine((u) => Buffer.byteLength(u) <= 1000, 'at most 1000 bytes').optional(),
  disconnection_reason: z.string().max(64).optional(),
  retell_llm_dynamic_variables: vars.optional(),
  collected_dynamic_variables: vars.optional(),
  metadata: z.unknown().optional(),
  call_analysis: z
    .looseObject({
      call_summary: z.string().max(LIMITS.summary).optional(),
      user_sentiment: z.string().max(LIMITS.sentiment).optional(),
      call_successful: z.boolean().optional(),
      in_voicemail: z.boolean().optional(),
      custom_analysis_data: vars.optional(),
    })
    .optional(),
});
export type RetellCall = z.infer<typeof callSchema>;

/** `{event, call}`; older payloads carried the call under `data`. */
export const webhookSchema = z
  .looseObject({ event: z.string().min(1).max(64), call: callSchema.optional(), data: callSchema.optional() })
  .refine((w) => w.call ?? w.data, { message: 'call is required', path: ['call'] })
  .transform((w) => ({ event: w.event, call: (w.call ?? w.data)! }));
export type RetellWebhook = z.infer<typeof webhookSchema>;

export function isHandledEvent(event: string): event is HandledEvent {
  return (HANDLED_EVENTS as readonly string[]).includes(event);
}

/** zod issues as `path: message` lines, the path in dotted form (`call.to_number`). */
export function describeIssues(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}
