/**
 * A parse keeps only the call's fields callbook reads: the rest of Retell's call object (the
 * transcript with each word's timing, twice; costs, latencies) is dropped at the edge, so neither
 * a live request waiting on Cal.com nor a webhook job holds it.
 */
import { describe, expect, it } from 'vitest';
import { realtimeTranscript } from '../../test/helpers/transcript';
import { parseLiveBody, parseWebhookBody } from './body';

const call = {
  call_id: 'call_parse_1',
  agent_id: 'agent_x',
  call_type: 'phone_call',
  call_status: 'ongoing',
  direction: 'inbound',
  to_number: '+4930111222',
  from_number: '+4917012345678',
  start_timestamp: 1_796_000_000_000,
  ...realtimeTranscript(10),
  call_cost: { combined_cost: 12 },
  latency: { e2e: { p50: 800 } },
};
const KEPT = ['agent_id', 'call_id', 'call_status', 'call_type', 'direction', 'from_number', 'start_timestamp', 'to_number', 'transcript'];

describe('the parse keeps the fields callbook reads, and drops the rest', () => {
  it('a live function body', () => {
    const v = parseLiveBody({ name: 'book_appointment', call, args: { when: 'morgen um 10' } });
    if (!v.ok) throw new Error(JSON.stringify(v));
    expect(Object.keys(v.value.call!).sort()).toEqual(KEPT);
    expect(v.value.call!.transcript).toBe(call.transcript);
    expect(v.businessNumber).toBe('+4930111222');
  });

  it('a webhook, in both its shapes', () => {
    for (const place of ['call', 'data'] as const) {
      const v = parseWebhookBody({ event: 'call_ended', [place]: call });
      if (!v.ok) throw new Error(JSON.stringify(v));
      expect(Object.keys(v.value.call).sort(), place).toEqual(KEPT);
    }
  });
});
