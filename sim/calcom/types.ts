/**
 * Public types of the Cal.com API v2 simulator: the accounts and event types it is seeded with, the faults
 * it can inject, the bookings and request log it exposes to tests, and the `CalcomSim` handle itself.
 */
import type { Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';

export interface SimAccount {
  apiKey: string;
  username: string;
  /** IANA zone; the event types' schedules are read in it. */
  timeZone: string;
  /** Requests per rolling 60 s window; default 120 (Cal.com's default for API keys). */
  rateLimitPerMinute?: number;
  /** Cal.com user id; assigned incrementally from 1 when absent. */
  id?: number;
  /** Display name; defaults to the username. */
  name?: string;
  /** Defaults to `<username>@example.com`. */
  email?: string;
  /** Teams this user is a member of: it may see and book their event types, and hosts them. */
  teamIds?: number[];
}

export interface SimEventType {
  id: number;
  slug: string;
  title: string;
  lengthInMinutes: number;
  ownerApiKey: string;
  teamId?: number;
  /** Lets `POST /v2/bookings` find a team event type by `eventTypeSlug` + `teamSlug`. */
  teamSlug?: string;
  schedulingType?: 'roundRobin' | 'collective' | 'managed';
  hidden?: boolean;
  /**
   * Availability: weekdays 1-7 (luxon, 1 = Monday), local hours in the owner's timeZone (fractions allowed,
   * endHour up to 24). Default Monday-Friday 9-17.
   */
  schedule?: { days: number[]; startHour: number; endHour: number };
  /** Default: lengthInMinutes. */
  slotIntervalMinutes?: number;
  /** Default 0 (Cal.com's own default is 120; the simulator keeps tests simple). */
  minimumBookingNoticeMinutes?: number;
  /** Enables `lengthInMinutes` in booking requests (Cal.com's "multiple durations"). */
  lengthInMinutesOptions?: number[];
  /** Returned as-is by the event-type endpoints; a default set of Cal.com system fields otherwise. */
  bookingFields?: unknown[];
}

export interface FaultConfig {
  /** Delay before every answer. */
  latencyMs?: number;
  /** 0..1: answer the bare `{"statusCode":500,"message":"Internal server error"}` without acting. */
  errorRatio?: number;
  /** 0..1: never answer (until the client gives up or the server closes), without acting. */
  hangRatio?: number;
  /** The next N requests get 429 ThrottlerException. */
  burst429?: number;
  /** X-RateLimit-Reset-Default of those 429s, in seconds; default 1. */
  burst429ResetSeconds?: number;
  /** 0..1: perform the action, then destroy the socket without answering. */
  dropAfterOkRatio?: number;
}

export type SimBookingStatus = 'accepted' | 'pending' | 'cancelled' | 'rejected';

export interface SimAttendee {
  name: string;
  /** Cal.com stores a placeholder `<digits>@sms.cal.com` for phone-only attendees. */
  email: string;
  timeZone: string;
  language: string;
  phoneNumber?: string;
}

export interface SimBooking {
  id: number;
  uid: string;
  title: string;
  status: SimBookingStatus;
  /** UTC ISO with milliseconds, as Cal.com renders it. */
  start: string;
  end: string;
  duration: number;
  eventTypeId: number;
  eventTypeSlug: string;
  teamId?: number;
  ownerApiKey: string;
  /** The users whose calendars this booking occupies. */
  hostApiKeys: string[];
  attendees: SimAttendee[];
  guests: string[];
  metadata: Record<string, string | number | boolean>;
  bookingFieldsResponses: Record<string, unknown>;
  location: string;
  createdAt: string;
  updatedAt: string;
  rescheduledToUid?: string;
  rescheduledFromUid?: string;
  reschedulingReason?: string;
  rescheduledByEmail?: string;
  cancellationReason?: string;
  cancelledByEmail?: string;
}

export interface SimRequestLogEntry {
  method: string;
  path: string;
  query?: Record<string, string>;
  apiKey?: string;
  /** The `cal-api-version` header as sent. */
  apiVersion?: string;
  /** The answer's status; 0 when none was sent (hang). A dropped answer keeps the status it would have had. */
  status: number;
  /** Request body: parsed JSON, or the raw text when it was not JSON. */
  body?: unknown;
  /** `hang`, `drop`, `500`, `429`, `latency=<ms>` when a fault shaped this request. */
  fault?: string;
  at: string;
}

export interface SimWebhook {
  id: number;
  ownerApiKey: string;
  subscriberUrl: string;
  triggers: string[];
  secret?: string;
  active: boolean;
  payloadTemplate: string | null;
}

export interface SimWebhookDelivery {
  webhookId: number;
  subscriberUrl: string;
  triggerEvent: string;
  /** The raw body that was signed and sent. */
  body: string;
  signature: string;
  /** HTTP status of the subscriber's answer; 0 when the request failed. */
  status: number;
  error?: string;
  at: string;
}

/** Hono environment of the simulator app; bindings exist only when served by @hono/node-server. */
export type SimEnv = {
  Bindings: Partial<HttpBindings>;
  Variables: SimVariables;
};

export interface SimVariables {
  log: SimRequestLogEntry;
  rawBody: string | undefined;
}

export interface CalcomSim {
  /** Mount (`parent.route('/', sim.app)`) or serve (`startCalcomSim`). */
  app: Hono<SimEnv>;
  addAccount(a: SimAccount): void;
  addEventType(e: SimEventType): void;
  removeEventType(id: number): void;
  /** Replaces the fault config of one scope: global, or per API key when `apiKey` is given. */
  setFaults(f: FaultConfig, apiKey?: string): void;
  clearFaults(): void;
  /** Every booking ever created (copies), cancelled and rescheduled ones included. */
  bookings(): SimBooking[];
  /** Every `/v2` request received (copies), plus failed webhook deliveries as method `WEBHOOK`. */
  requests(): SimRequestLogEntry[];
  addWebhook(w: { subscriberUrl: string; triggers: string[]; secret?: string; ownerApiKey: string }): void;
  /** Every outgoing webhook attempt (copies). */
  webhookDeliveries(): SimWebhookDelivery[];
  /** Resolves once every webhook delivery started so far has settled. */
  webhooksIdle(): Promise<void>;
  /** Pins the clock (overrides `opts.now`); `undefined` returns to `opts.now` or the real time. */
  setNow(now: Date | undefined): void;
  now(): Date;
  /**
   * Forgets runtime data: bookings, request log, webhook deliveries, faults and rate-limit counters. Keeps
   * the configuration (accounts, event types, webhooks) unless `{ all: true }`.
   */
  reset(opts?: { all?: boolean }): void;
  /** Lets every hanging request go (their sockets are destroyed). */
  releaseHangs(): void;
}
