/**
 * zod schemas of the Cal.com API v2 answers the client reads (bookings 2024-08-13, slots 2024-09-04,
 * event types 2024-06-14 and team event types). Objects are loose — Cal.com adds fields freely — but
 * the fields callbook reads are checked strictly, so a changed contract fails loudly as
 * `invalid_response` instead of booking on a misread answer.
 */
import { z } from 'zod';

const nullishString = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

export const attendeeSchema = z.looseObject({
  name: z.string(),
  email: nullishString,
  timeZone: z.string(),
  phoneNumber: nullishString,
});

/** Metadata as Cal.com stores it (strings, possibly numbers/booleans written by others), read as strings. */
const metadataSchema = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .nullish()
  .transform((m): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(m ?? {})) out[k] = String(v);
    return out;
  });

export const bookingSchema = z.looseObject({
  id: z.number().int(),
  uid: z.string().min(1),
  status: z.string(),
  start: z.string(),
  end: z.string(),
  eventTypeId: z.number().int(),
  metadata: metadataSchema,
  attendees: z.array(attendeeSchema),
  rescheduledToUid: nullishString,
  rescheduledFromUid: nullishString,
  title: nullishString,
  duration: z
    .number()
    .nullish()
    .transform((v) => v ?? undefined),
});

export const paginationSchema = z.looseObject({ hasNextPage: z.boolean() });

export const slotSchema = z.looseObject({ start: z.string(), end: z.string().optional() });
/** `{ "2050-09-05": [{ start, end? }] }`, dates in the requested time zone. */
export const slotsMapSchema = z.record(z.string(), z.array(slotSchema));

export const eventTypeSchema = z.looseObject({
  id: z.number().int(),
  slug: z.string(),
  title: z.string(),
  lengthInMinutes: z.number(),
  lengthInMinutesOptions: z.array(z.number()).nullish(),
  hidden: z.boolean().optional(),
  minimumBookingNotice: z.number().nullish(),
  slotInterval: z.number().nullish(),
  bookingFields: z.array(z.unknown()).optional(),
  teamId: z.number().int().nullish(),
  schedulingType: z.string().nullish(),
  hosts: z.array(z.unknown()).optional(),
});

export const teamEventTypeSchema = eventTypeSchema.extend({
  teamId: z.number().int(),
  schedulingType: z.string().nullable(),
  hosts: z.array(z.unknown()),
});

/** `{ status: "success", data }`. */
export function successEnvelope<T extends z.ZodType>(data: T) {
  return z.looseObject({ status: z.literal('success'), data });
}

export const bookingResponseSchema = successEnvelope(bookingSchema);
export const bookingListResponseSchema = z.looseObject({
  status: z.literal('success'),
  data: z.array(bookingSchema),
  pagination: paginationSchema,
});
export const slotsResponseSchema = successEnvelope(slotsMapSchema);
export const eventTypeResponseSchema = successEnvelope(eventTypeSchema);
export const eventTypeListResponseSchema = successEnvelope(z.array(eventTypeSchema));
export const teamEventTypeListResponseSchema = successEnvelope(z.array(teamEventTypeSchema));

export type CalBookingParsed = z.output<typeof bookingSchema>;
export type CalEventType = z.output<typeof eventTypeSchema>;
export type CalTeamEventType = z.output<typeof teamEventTypeSchema>;
export type CalSlot = z.output<typeof slotSchema>;
