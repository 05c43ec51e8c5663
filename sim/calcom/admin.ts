/**
 * The `/__sim` admin API for standalone use (not part of Cal.com, not rate limited, not in the request
 * log): inspect bookings, requests and webhook deliveries; seed accounts, event types and webhooks; set
 * faults; pin the clock; reset.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { SimHttpError } from './errors';
import { faultConfigSchema } from './faults';
import { readBody, type SimContext } from './http';
import type { CalcomSim, SimEnv } from './types';

const accountSchema = z.strictObject({
  apiKey: z.string().min(1),
  username: z.string().min(1),
  timeZone: z.string().min(1),
  rateLimitPerMinute: z.number().int().positive().optional(),
  id: z.number().int().positive().optional(),
  name: z.string().optional(),
  email: z.string().optional(),
  teamIds: z.array(z.number().int()).optional(),
});

const eventTypeSchema = z.strictObject({
  id: z.number().int().positive(),
  slug: z.string().min(1),
  title: z.string().min(1),
  lengthInMinutes: z.number().int().positive(),
  ownerApiKey: z.string().min(1),
  teamId: z.number().int().optional(),
  teamSlug: z.string().optional(),
  schedulingType: z.enum(['roundRobin', 'collective', 'managed']).optional(),
  hidden: z.boolean().optional(),
  schedule: z
    .strictObject({ days: z.array(z.number().int().min(1).max(7)), startHour: z.number(), endHour: z.number() })
    .optional(),
  slotIntervalMinutes: z.number().int().positive().optional(),
  minimumBookingNoticeMinutes: z.number().int().min(0).optional(),
  lengthInMinutesOptions: z.array(z.number().int().positive()).optional(),
  bookingFields: z.array(z.unknown()).optional(),
});

const faultsSchema = faultConfigSchema.extend({ apiKey: z.string().optional() });
const webhookSchema = z.strictObject({
  subscriberUrl: z.string().min(1),
  triggers: z.array(z.string()),
  secret: z.string().optional(),
  ownerApiKey: z.string().min(1),
});
const resetSchema = z.strictObject({ all: z.boolean().optional() });
const clockSchema = z.strictObject({ now: z.string().nullable() });

/** Parses the admin body with `schema`, and turns any failure of `act` into a 400 naming the problem. */
function act<T>(c: SimContext, schema: z.ZodType<T>, fn: (input: T) => unknown) {
  const parsed = schema.safeParse(readBody(c) ?? {});
  if (!parsed.success) throw new SimHttpError(400, z.prettifyError(parsed.error));
  try {
    return c.json({ status: 'success', data: fn(parsed.data) ?? null });
  } catch (err) {
    throw new SimHttpError(400, err instanceof Error ? err.message : String(err));
  }
}

export function adminRoutes(sim: Omit<CalcomSim, 'app'>): Hono<SimEnv> {
  const r = new Hono<SimEnv>();
  // The /v2 middleware does not run here, so read the body ourselves.
  r.use('*', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'DELETE') c.set('rawBody', await c.req.text());
    await next();
  });

  r.get('/bookings', (c) => c.json({ status: 'success', data: sim.bookings() }));
  r.get('/requests', (c) => c.json({ status: 'success', data: sim.requests() }));
  r.get('/webhook-deliveries', (c) => c.json({ status: 'success', data: sim.webhookDeliveries() }));
  r.post('/accounts', (c) => act(c, accountSchema, (a) => sim.addAccount(a)));
  r.post('/event-types', (c) => act(c, eventTypeSchema, (e) => sim.addEventType(e)));
  r.delete('/event-types/:id', (c) => {
    sim.removeEventType(Number(c.req.param('id')));
    return c.json({ status: 'success', data: null });
  });
  r.post('/webhooks', (c) => act(c, webhookSchema, (w) => sim.addWebhook(w)));
  r.post('/faults', (c) =>
    act(c, faultsSchema, ({ apiKey, ...faults }) => {
      sim.setFaults(faults, apiKey);
    }),
  );
  r.delete('/faults', (c) => {
    sim.clearFaults();
    return c.json({ status: 'success', data: null });
  });
  r.post('/reset', (c) => act(c, resetSchema, (o) => sim.reset(o)));
  r.post('/clock', (c) =>
    act(c, clockSchema, ({ now }) => {
      if (now !== null && Number.isNaN(Date.parse(now))) throw new Error(`clock: "${now}" is not a date`);
      sim.setNow(now === null ? undefined : new Date(now));
      return { now: sim.now().toISOString() };
    }),
  );
  return r;
}
