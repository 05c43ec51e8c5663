/**
 * A call row belongs to one company, below the HTTP layer: upsertCall never changes another
 * company's row (every merged column is guarded), and decideBooking neither loops on a row it
 * cannot decide (it used to recurse forever on a foreign call id) nor outlives its job's abort.
 */
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls } from '../drizzle/schema';
import { extractIntent } from '../lib/calls/booking-intent';
import { decideBooking, DecisionNotRecordedError } from '../lib/calls/decide-booking';
import { ForeignCallError, upsertCall } from '../lib/calls/record-call';
import { lookupPhone, type PhoneResolution } from '../lib/calls/resolve-phone';
import type { RetellCall } from '../lib/retell/webhook';
import { createTestEnv, importTestTenants, type TestEnv } from './helpers/env';
import { CALLER, CLINIC_NUMBER, SALON_NUMBER, callId } from './helpers/fixtures';

let env: TestEnv;
let salon: PhoneResolution;
let clinic: PhoneResolution;

beforeAll(async () => {
  env = await createTestEnv();
  await importTestTenants(env);
  salon = (await lookupPhone(env.ctx.database.db, SALON_NUMBER))!;
  clinic = (await lookupPhone(env.ctx.database.db, CLINIC_NUMBER))!;
});
afterAll(() => env?.cleanup());

const db = () => env.ctx.database.db;
const call = (id: string, to: string, extra: Partial<RetellCall> = {}): RetellCall => ({ call_id: id, direction: 'inbound', to_number: to, from_number: CALLER, ...extra });

describe('a call row belongs to one company', () => {
  it("upsertCall refuses another company's row and leaves every column as it was", async () => {
    const id = callId();
    const rowId = await upsertCall(db(), { companyId: salon.companyId, branchId: salon.branchId, customerId: null, event: 'call_started', call: call(id, SALON_NUMBER) });
    const [before] = await db().select().from(calls).where(eq(calls.id, rowId));
    const forged = call(id, CLINIC_NUMBER, { transcript: 'forged', agent_id: 'agent_forged', disconnection_reason: 'forged', call_analysis: { call_summary: 'forged', user_sentiment: 'Negative' } });
    await expect(upsertCall(db(), { companyId: clinic.companyId, branchId: clinic.branchId, customerId: null, event: 'call_analyzed', call: forged })).rejects.toBeInstanceOf(ForeignCallError);
    const [after] = await db().select().from(calls).where(eq(calls.id, rowId));
    expect(after).toEqual(before);
    // The owner still merges into its own row.
    expect(await upsertCall(db(), { companyId: salon.companyId, branchId: salon.branchId, customerId: null, event: 'call_ended', call: call(id, SALON_NUMBER, { duration_ms: 1000 }) })).toBe(rowId);
  });

  it('decideBooking on a row it cannot decide stops after its bounded rounds, with the reason', async () => {
    const id = callId();
    const rowId = await upsertCall(db(), { companyId: salon.companyId, branchId: salon.branchId, customerId: null, event: 'call_started', call: call(id, SALON_NUMBER) });
    const input = {
      db: db(),
      bookingsQueue: env.ctx.queues.bookings,
      logger: pino({ level: 'silent' }),
      where: clinic, // not the row's company
      callRowId: rowId,
      retellCallId: id,
      customerId: null,
      intent: extractIntent(call(id, CLINIC_NUMBER)),
      final: true,
    };
    await expect(decideBooking(input)).rejects.toBeInstanceOf(DecisionNotRecordedError);
    const [row] = await db().select().from(calls).where(eq(calls.id, rowId));
    expect(row!.bookingDecision).toBeNull();
    const aborted = new AbortController();
    aborted.abort(new Error('job timed out'));
    await expect(decideBooking({ ...input, signal: aborted.signal })).rejects.toThrow('job timed out');
  });
});
