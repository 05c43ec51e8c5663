import { describe, expect, it } from 'vitest';
import { extractIntent, isUnknownName, readConfirmation } from './booking-intent';
import type { RetellCall } from '../retell/webhook';

describe('readConfirmation', () => {
  it.each([true, 'true', 'TRUE', ' True ', '1', 1, 'yes', 'YES', 'Yes', 'ja', 'JA', 'Ja'])('%s means yes', (v) => {
    expect(readConfirmation(v)).toBe(true);
  });
  it.each([false, 'false', '0', 0, 2, 'no', 'nein', '', null, undefined, {}, [], 'yesterday', 'jawohl?'])('%s means no', (v) => {
    expect(readConfirmation(v)).toBe(false);
  });
});

describe('extractIntent', () => {
  const call = (over: Partial<RetellCall>): RetellCall => ({ call_id: 'c', ...over }) as RetellCall;

  it('reads analysis over collected over dynamic variables, with loose key names', () => {
    const intent = extractIntent(
      call({
        retell_llm_dynamic_variables: { 'Customer Name': 'From Dynamic', service: 'dyn' },
        collected_dynamic_variables: { 'appointment-date': '2026-12-01', service: 'Haarschnitt' },
        call_analysis: { custom_analysis_data: { Booking_Confirmed: 'Ja', appointment_time: '11:00', event_type_id: '1001' } },
      }),
    );
    expect(intent).toMatchObject({ confirmed: true, date: '2026-12-01', time: '11:00', service: 'Haarschnitt', eventTypeId: 1001, customerName: 'From Dynamic' });
  });

  it('drops names that mean unknown', () => {
    expect(extractIntent(call({ collected_dynamic_variables: { customer_name: 'Unbekannt' } })).customerName).toBeUndefined();
    expect(isUnknownName('unknown')).toBe(true);
    expect(isUnknownName('Anna')).toBe(false);
  });
});
