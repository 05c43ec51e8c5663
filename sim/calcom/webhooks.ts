/**
 * Outgoing Cal.com webhooks: the booking payload Cal.com posts on BOOKING_CREATED / BOOKING_RESCHEDULED /
 * BOOKING_CANCELLED, signed with `X-Cal-Signature-256` (hex HMAC-SHA256 of the raw body; the literal
 * `no-secret-provided` as key when the webhook has no secret). Delivered asynchronously, redirects not
 * followed; failures land in the request log and never reach the caller.
 */
import { createHmac } from 'node:crypto';
import type { AccountRecord, SimState } from './state';
import type { SimBooking, SimWebhook, SimWebhookDelivery } from './types';

export type BookingTrigger = 'BOOKING_CREATED' | 'BOOKING_RESCHEDULED' | 'BOOKING_CANCELLED';

export const WEBHOOK_TRIGGERS = [
  'BOOKING_CREATED',
  'BOOKING_PAYMENT_INITIATED',
  'BOOKING_PAID',
  'BOOKING_RESCHEDULED',
  'BOOKING_REQUESTED',
  'BOOKING_CANCELLED',
  'BOOKING_REJECTED',
  'BOOKING_NO_SHOW_UPDATED',
  'FORM_SUBMITTED',
  'MEETING_ENDED',
  'MEETING_STARTED',
  'RECORDING_READY',
  'INSTANT_MEETING',
  'RECORDING_TRANSCRIPTION_GENERATED',
  'OOO_CREATED',
  'AFTER_HOSTS_CAL_VIDEO_NO_SHOW',
  'AFTER_GUESTS_CAL_VIDEO_NO_SHOW',
] as const;

const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * @example
 * signWebhookBody('{"triggerEvent":"BOOKING_CREATED"}', 'whsec') // => 64 hex chars
 */
export function signWebhookBody(rawBody: string, secret?: string): string {
  return createHmac('sha256', secret || 'no-secret-provided').update(rawBody).digest('hex');
}

function person(a: AccountRecord) {
  return {
    id: a.id,
    name: a.name,
    email: a.email,
    username: a.username,
    timeZone: a.timeZone,
    language: { locale: 'en' },
    timeFormat: 'h:mma',
  };
}

/** `responses` as Cal.com's webhooks carry them: each booking field as `{label, value}`. */
function responses(b: SimBooking): Record<string, { label: string; value: unknown }> {
  const attendee = b.attendees[0];
  const out: Record<string, { label: string; value: unknown }> = {};
  if (attendee) {
    out.name = { label: 'your_name', value: attendee.name };
    out.email = { label: 'email_address', value: attendee.email };
    if (attendee.phoneNumber) out.attendeePhoneNumber = { label: 'phone_number', value: attendee.phoneNumber };
  }
  out.location = { label: 'location', value: { optionValue: '', value: b.location } };
  if (b.guests.length) out.guests = { label: 'additional_guests', value: b.guests };
  for (const [key, value] of Object.entries(b.bookingFieldsResponses)) {
    if (!(key in out) && !['name', 'email', 'attendeePhoneNumber', 'guests', 'location'].includes(key)) {
      out[key] = { label: key, value };
    }
  }
  if (b.reschedulingReason) out.rescheduleReason = { label: 'reason_for_reschedule', value: b.reschedulingReason };
  return out;
}

export interface WebhookExtra {
  /** For BOOKING_RESCHEDULED: the booking that was moved. */
  from?: SimBooking;
}

/** The `{triggerEvent, createdAt, payload}` body Cal.com posts for a booking event. */
export function bookingWebhookBody(
  state: SimState,
  trigger: BookingTrigger,
  b: SimBooking,
  now: Date,
  extra: WebhookExtra = {},
): Record<string, unknown> {
  const organizer = state.accounts.get(b.hostApiKeys[0] ?? b.ownerApiKey) ?? state.accounts.get(b.ownerApiKey);
  const et = state.eventTypes.get(b.eventTypeId);
  const payload: Record<string, unknown> = {
    type: b.eventTypeSlug,
    title: b.title,
    description: '',
    additionalNotes: '',
    customInputs: {},
    startTime: b.start,
    endTime: b.end,
    organizer: organizer ? person(organizer) : null,
    responses: responses(b),
    userFieldsResponses: {},
    attendees: b.attendees.map((a) => {
      const [firstName = '', ...rest] = a.name.split(' ');
      return {
        email: a.email,
        name: a.name,
        firstName,
        lastName: rest.join(' '),
        timeZone: a.timeZone,
        phoneNumber: a.phoneNumber ?? null,
        language: { locale: a.language },
      };
    }),
    location: b.location,
    destinationCalendar: null,
    hideCalendarNotes: false,
    requiresConfirmation: false,
    eventTypeId: b.eventTypeId,
    seatsShowAttendees: true,
    seatsPerTimeSlot: null,
    seatsShowAvailabilityCount: true,
    schedulingType: et?.schedulingType ? et.schedulingType.toUpperCase().replace('ROUNDROBIN', 'ROUND_ROBIN') : null,
    iCalUID: `${b.uid}@Cal.com`,
    iCalSequence: 0,
    uid: b.uid,
    bookingId: b.id,
    metadata: b.metadata,
    status: b.status === 'cancelled' ? 'CANCELLED' : b.status.toUpperCase(),
  };
  if (b.teamId !== undefined) {
    payload.team = {
      id: b.teamId,
      name: et?.teamSlug ?? `team-${b.teamId}`,
      members: b.hostApiKeys.slice(1).flatMap((k) => {
        const a = state.accounts.get(k);
        return a ? [person(a)] : [];
      }),
    };
  }
  if (trigger === 'BOOKING_RESCHEDULED' && extra.from) {
    payload.rescheduleId = extra.from.id;
    payload.rescheduleUid = extra.from.uid;
    payload.rescheduleStartTime = extra.from.start;
    payload.rescheduleEndTime = extra.from.end;
    payload.rescheduledBy = b.rescheduledByEmail ?? null;
  }
  if (trigger === 'BOOKING_CANCELLED') {
    payload.cancellationReason = b.cancellationReason ?? '';
    payload.cancelledBy = b.cancelledByEmail ?? null;
  }
  return { triggerEvent: trigger, createdAt: now.toISOString(), payload };
}

/** Whether a webhook of `owner` hears about booking `b`: its owner, a host, or (team events) a member. */
function concerns(state: SimState, w: SimWebhook, b: SimBooking): boolean {
  const owner = state.accounts.get(w.ownerApiKey);
  return owner !== undefined && state.canSeeBooking(owner, b);
}

export class WebhookDispatcher {
  private pending = new Set<Promise<void>>();

  constructor(
    private readonly state: SimState,
    private readonly now: () => Date,
  ) {}

  /** Sends `trigger` for `b` to every matching active subscriber; returns at once. */
  emit(trigger: BookingTrigger, b: SimBooking, extra: WebhookExtra = {}): void {
    const targets = this.state.webhooks.filter((w) => w.active && w.triggers.includes(trigger) && concerns(this.state, w, b));
    if (!targets.length) return;
    const body = JSON.stringify(bookingWebhookBody(this.state, trigger, b, this.now(), extra));
    for (const w of targets) {
      const p = this.deliver(w, trigger, body).finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }

  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private async deliver(w: SimWebhook, trigger: BookingTrigger, body: string): Promise<void> {
    const signature = signWebhookBody(body, w.secret);
    const delivery: SimWebhookDelivery = {
      webhookId: w.id,
      subscriberUrl: w.subscriberUrl,
      triggerEvent: trigger,
      body,
      signature,
      status: 0,
      at: this.now().toISOString(),
    };
    this.state.deliveries.push(delivery);
    try {
      // Yield first so the booking's HTTP answer goes out before the webhook, as with Cal.com's async tasks.
      await new Promise((resolve) => setImmediate(resolve));
      const res = await fetch(w.subscriberUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Cal-Signature-256': signature },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      delivery.status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) delivery.error = `subscriber answered ${res.status}`;
    } catch (err) {
      delivery.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    if (delivery.error) {
      this.state.log.push({
        method: 'WEBHOOK',
        path: w.subscriberUrl,
        status: delivery.status,
        body: { triggerEvent: trigger, webhookId: w.id, error: delivery.error },
        at: this.now().toISOString(),
      });
    }
  }
}
