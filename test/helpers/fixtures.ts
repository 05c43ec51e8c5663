/** Tenants and Retell payloads for tests. Signatures are made with the official retell-sdk. */
import Retell from 'retell-sdk';
import type { TenantsFile } from '../../lib/tenants/file-schema';
import { tenantsFileSchema } from '../../lib/tenants/file-schema';

export const SALON_NUMBER = '+4930111111';
export const CLINIC_NUMBER = '+4940222222';
export const CALLER = '+4917012345678';

export function twoCompanies(): TenantsFile {
  return tenantsFileSchema.parse({
    companies: [
      {
        slug: 'salon-anna',
        name: 'Salon Anna',
        language: 'de',
        calcomApiKey: 'cal_test_salon_key',
        calcomUsername: 'salon-anna',
        branches: [{ slug: 'mitte', name: 'Salon Anna Mitte', timezone: 'Europe/Berlin', phoneNumbers: [SALON_NUMBER], defaultService: 'haircut' }],
        services: [
          { slug: 'haircut', name: 'Haircut', calcomEventTypeId: 1001, durationMinutes: 30, aliases: ['Haarschnitt', 'Schneiden'] },
          { slug: 'coloring', name: 'Coloring', calcomEventTypeId: 1002, durationMinutes: 90, aliases: ['Färben'] },
        ],
      },
      {
        slug: 'clinic-nord',
        name: 'Clinic Nord',
        language: 'en',
        calcomApiKey: 'cal_test_clinic_key',
        calcomUsername: 'clinic-nord',
        branches: [{ slug: 'hh', name: 'Clinic Nord Hamburg', timezone: 'Europe/Berlin', language: 'en', phoneNumbers: [CLINIC_NUMBER] }],
        services: [{ slug: 'checkup', name: 'Check-up', calcomEventTypeId: 2001, calcomTeamId: 77, durationMinutes: 20 }],
      },
    ],
  });
}

let seq = 0;
export function callId(): string {
  return `call_${Date.now().toString(36)}_${(seq++).toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

export interface CallOpts {
  callId: string;
  to?: string;
  from?: string;
  vars?: Record<string, unknown>;
  analysis?: Record<string, unknown>;
  sentiment?: string;
  transcript?: string;
  /** Default 'agent_test'. */
  agentId?: string;
  /** call_analysis.call_summary; default 'Caller booked a haircut.' */
  summary?: string;
}

export function retellEvent(event: string, o: CallOpts): Record<string, unknown> {
  const call: Record<string, unknown> = {
    call_id: o.callId,
    agent_id: o.agentId ?? 'agent_test',
    call_type: 'phone_call',
    call_status: event === 'call_started' ? 'ongoing' : 'ended',
    direction: 'inbound',
    from_number: o.from ?? CALLER,
    to_number: o.to ?? SALON_NUMBER,
    start_timestamp: Date.now() - 120_000,
  };
  if (event !== 'call_started') {
    call.end_timestamp = Date.now();
    call.duration_ms = 120_000;
    call.transcript = o.transcript ?? 'Agent: Hallo!\nUser: Dienstag um 11, Haarschnitt, ich heiße Anna.';
    call.disconnection_reason = 'user_hangup';
  }
  if (o.vars) call.collected_dynamic_variables = o.vars;
  if (event === 'call_analyzed') {
    call.call_analysis = {
      call_summary: o.summary ?? 'Caller booked a haircut.',
      user_sentiment: o.sentiment ?? 'Positive',
      call_successful: true,
      ...(o.analysis ? { custom_analysis_data: o.analysis } : {}),
    };
  }
  return { event, call };
}

export async function signed(body: string, key = 'key_test_retell_global'): Promise<Record<string, string>> {
  return { 'content-type': 'application/json', 'x-retell-signature': await Retell.sign(body, key) };
}
