// lib/retell/webhook.ts
import { z } from "zod";
var HANDLED_EVENTS = ["call_started", "call_ended", "call_analyzed"];
var e164 = z.string().regex(/^\+[1-9]\d{5,14}$/, "must be an E.164 number like +4930123456");
var vars = z.record(z.string(), z.unknown());
var callSchema = z.looseObject({
  call_id: z.string().min(1).max(100),
  agent_id: z.string().max(100).optional(),
  call_type: z.string().optional(),
  call_status: z.string().optional(),
  direction: z.enum(["inbound", "outbound"]).optional(),
  from_number: e164.optional(),
  to_number: e164.optional(),
  start_timestamp: z.number().int().nonnegative().optional(),
  end_timestamp: z.number().int().nonnegative().optional(),
  duration_ms: z.number().int().nonnegative().optional(),
  transcript: z.string().optional(),
  recording_url: z.string().max(1e3).optional(),
  disconnection_reason: z.string().max(64).optional(),
  retell_llm_dynamic_variables: vars.optional(),
  collected_dynamic_variables: vars.optional(),
  metadata: z.unknown().optional(),
  call_analysis: z.looseObject({
    call_summary: z.string().optional(),
    user_sentiment: z.string().optional(),
    call_successful: z.boolean().optional(),
    in_voicemail: z.boolean().optional(),
    custom_analysis_data: vars.optional()
  }).optional()
});
var webhookSchema = z.looseObject({ event: z.string().min(1).max(64), call: callSchema.optional(), data: callSchema.optional() }).refine((w) => w.call ?? w.data, { message: "call is required", path: ["call"] }).transform((w) => ({ event: w.event, call: w.call ?? w.data }));
function isHandledEvent(event) {
  return HANDLED_EVENTS.includes(event);
}
function describeIssues(error) {
  return error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(root)", message: i.message }));
}

export {
  HANDLED_EVENTS,
  callSchema,
  webhookSchema,
  isHandledEvent,
  describeIssues
};
//# sourceMappingURL=chunk-RDU6U4K7.js.map
