/** Reads of a call with what hangs off it, for operators' tools (apps/ never imports the schema). */
import { and, eq } from 'drizzle-orm';
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
