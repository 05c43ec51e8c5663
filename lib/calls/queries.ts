/** Reads of a call with what hangs off it, for operators' tools (apps/ never imports the schema). */
import { and, eq, like } from 'drizzle-orm';
import type { Db } from '../db';
import { appointments, calls, customers, webhookEvents } from '../../drizzle/schema';

export type CallRow = typeof calls.$inferSelect;
export type AppointmentRow = typeof appointments.$inferSelect;
export type CustomerRow = typeof customers.$inferSelect;

export async function callByRetellId(db: Db, retellCallId: string): Promise<CallRow | undefined> {
  const [row] = await db.select().from(calls).where(eq(calls.retellCallId, retellCallId));
  return row;
}

export async function appointmentById(db: Db, id: number): Promise<AppointmentRow | undefined> {
  const [row] = await db.select().from(appointments).where(eq(appointments.id, id));
  return row;
}

/** The call's appointments, within the call's company. */
export function appointmentsOfCall(db: Db, call: Pick<CallRow, 'id' | 'companyId'>): Promise<AppointmentRow[]> {
  return db.select().from(appointments).where(and(eq(appointments.callId, call.id), eq(appointments.companyId, call.companyId)));
}

export async function customerOf(db: Db, companyId: number, customerId: number): Promise<CustomerRow | undefined> {
  const [row] = await db.select().from(customers).where(and(eq(customers.id, customerId), eq(customers.companyId, companyId)));
  return row;
}

export function webhookEventsOfCall(db: Db, retellCallId: string) {
  return db.select().from(webhookEvents).where(eq(webhookEvents.externalId, retellCallId));
}

/**
 * How a call's event was handled, once it was (`processed`, `rejected`, `ignored`): the inbox row
 * (either inbox key of the event: the platform's or a company account's) and the call's decision.
 */
export async function handledEvent(db: Db, retellCallId: string, event: string) {
  const rows = await db
    .select({ status: webhookEvents.status, error: webhookEvents.error })
    .from(webhookEvents)
    .where(and(eq(webhookEvents.provider, 'retell'), like(webhookEvents.dedupeKey, `${retellCallId}:${event}%`)));
  const ev = rows.find((r) => ['processed', 'rejected', 'ignored'].includes(r.status));
  if (!ev) return null;
  const [call] = await db
    .select({ decision: calls.bookingDecision, reason: calls.bookingReason, appointmentId: calls.appointmentId })
    .from(calls)
    .where(eq(calls.retellCallId, retellCallId));
  return { status: ev.status, error: ev.error, decision: call?.decision ?? null, reason: call?.reason ?? null, appointmentId: call?.appointmentId ?? null };
}
