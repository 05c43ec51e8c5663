/**
 * A booking asked for directly — by an operator (`callbook book`) or a tool (MCP
 * `booking_create`) — rather than by a call: the customer is found or created in the company, and
 * the job is keyed so that the same request for the same person, service and time is the same
 * booking however often it is sent.
 */
import { bookingIdempotencyKey } from '../calls/idempotency';
import { upsertCustomer } from '../calls/record-call';
import type { Db } from '../db';
import type { BookingJob } from '../queues';

export interface ManualBooking {
  companyId: number;
  branchId: number;
  service: { id: number; calcomEventTypeId: number };
  phone: string;
  name?: string | undefined;
  email?: string | undefined;
  start: Date;
  source: 'cli' | 'mcp';
}

export async function manualBookingJob(db: Db, b: ManualBooking): Promise<BookingJob> {
  const customerId = await upsertCustomer(db, b.companyId, b.phone, b.name, b.email);
  const start = b.start.toISOString();
  return {
    companyId: b.companyId,
    branchId: b.branchId,
    customerId,
    serviceId: b.service.id,
    start,
    idempotencyKey: bookingIdempotencyKey({ companyId: b.companyId, callRef: `${b.source}:${b.phone}`, eventTypeId: b.service.calcomEventTypeId, startIso: start }),
    source: b.source,
  };
}
