/**
 * Retell's inbound-call webhook (`inbound_webhook_url` on a number): before the agent answers,
 * Retell posts `{"event":"call_inbound","call_inbound":{"agent_id"?,"from_number","to_number"}}`
 * and takes `{"call_inbound":{"dynamic_variables":{…strings},"metadata":{…}}}` back, so the agent
 * can greet a returning caller by name and knows their next appointment.
 *
 * Cost per call: the dialled number → company/branch is the cached resolution
 * (lib/calls/resolve-phone), the branch's opening hours are cached beside it (1 min), and the
 * caller plus their next appointment is one indexed query (customers by (company, phone),
 * appointments by (company, customer)). That query is deliberately not cached: it carries personal data, which
 * callbook keeps out of Redis in clear text, and a cached "no appointment" would be wrong right
 * after the caller booked.
 *
 * An unknown number, a caller callbook has never seen (or whose data was erased), or a web call
 * without a caller number all give the empty answer `{"call_inbound":{}}`: Retell then runs the
 * number's agent as configured.
 */
import { open, phoneIndexCandidates } from '../pii';
import { redisKeys } from '../redis/keys';
import { and, asc, eq, gt, inArray, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { InboundBody } from '../retell/body';
import { appointments, branches, customers, services } from '../../drizzle/schema';
import type { TieredCache } from '../cache';
import { resolvePhone } from '../calls/resolve-phone';
import { speakTime, toZonedIso, type Lang } from '../datetime/format';
import type { Db } from '../db';


export interface InboundAnswer {
  call_inbound: {
    /** Values are strings: Retell substitutes them into the prompt as {{name}}. */
    dynamic_variables?: Record<string, string>;
    metadata?: Record<string, unknown>;
  };
}

export const EMPTY_ANSWER: InboundAnswer = Object.freeze({ call_inbound: Object.freeze({}) }) as InboundAnswer;

export interface InboundDeps {
  db: Db;
  cache: TieredCache;
}

/** Opening hours per branch, cached a minute: a tenants import is seen within that, unflushed. */
const branchKey = redisKeys.inboundBranch;
const BRANCH_TTL_MS = 60_000;

/** The answer for one inbound call; `now` decides what "next appointment" means. */
export async function answerInbound(deps: InboundDeps, body: InboundBody, now: Date = new Date()): Promise<InboundAnswer> {
  const { fromNumber: from, toNumber: to } = body;
  if (!from) return EMPTY_ANSWER;

  const where = await resolvePhone(deps.db, deps.cache, to);
  if (!where) return EMPTY_ANSWER;

  const [branchInfo, caller] = await Promise.all([
    deps.cache.getOrLoad(branchKey(where.branchId), BRANCH_TTL_MS, async () => {
      const [row] = await deps.db.select({ openingHours: branches.openingHours }).from(branches).where(eq(branches.id, where.branchId));
      return { openingHours: row?.openingHours ?? null };
    }),
    // One query: the customer and, when there is one, their soonest upcoming booked appointment.
    deps.db
      .select({
        customerId: customers.id,
        name: customers.name,
        appointmentId: appointments.id,
        start: appointments.startAt,
        branchId: appointments.branchId,
        serviceName: services.name,
        branchName: branches.name,
        branchTimezone: branches.timezone,
      })
      .from(customers)
      .leftJoin(
        appointments,
        and(eq(appointments.companyId, customers.companyId), eq(appointments.customerId, customers.id), eq(appointments.status, 'booked'), gt(appointments.startAt, now)),
      )
      // By primary key only: the appointment row is already the company's (joined on company_id
      // above), and a company_id condition here makes MariaDB scan the company's branches instead.
      .leftJoin(services, eq(services.id, appointments.serviceId))
      .leftJoin(branches, eq(branches.id, appointments.branchId))
      .where(and(eq(customers.companyId, where.companyId), inArray(customers.phoneIndex, phoneIndexCandidates(where.companyId, from)), isNull(customers.erasedAt)))
      .orderBy(asc(appointments.startAt))
      .limit(1)
      .then((rows) => rows[0]),
  ]);
  if (!caller) return EMPTY_ANSWER;

  const lang: Lang = where.language === 'en' ? 'en' : 'de';
  const vars: Record<string, string> = {
    caller_known: 'true',
    customer_name: open(caller.name) ?? '',
    company_name: where.companyName,
    branch_name: where.branchName,
    opening_hours: branchInfo.openingHours ?? '',
    next_appointment: '',
    next_appointment_service: '',
    next_appointment_branch: '',
    next_appointment_start: '',
  };
  const metadata: Record<string, unknown> = { callbook_company: where.companySlug, callbook_branch_id: where.branchId, callbook_customer_id: caller.customerId };
  if (caller.appointmentId !== null && caller.start) {
    // Spoken in the language of the dialled branch, in the time zone of the appointment's branch.
    const zone = caller.branchTimezone ?? where.timezone;
    vars.next_appointment = speakTime(caller.start, zone, lang);
    vars.next_appointment_service = caller.serviceName ?? '';
    vars.next_appointment_branch = caller.branchName ?? '';
    vars.next_appointment_start = toZonedIso(caller.start, zone);
    metadata.callbook_appointment_id = caller.appointmentId;
  }
  return { call_inbound: { dynamic_variables: vars, metadata } };
}
