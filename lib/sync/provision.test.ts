import { describe, expect, it } from 'vitest';
import { liveToolDefinitions } from '../live/tools';
import { mergeTools, missingAnalysisFields, sameJson } from './provision';

const ours = liveToolDefinitions('https://cb.example.com', 'en');

describe('mergeTools', () => {
  it('appends missing tools, keeps foreign ones in place, and is a no-op the second time', () => {
    const foreign = { type: 'end_call', name: 'end_call' };
    const first = mergeTools([foreign], ours);
    expect(first.tools[0]).toBe(foreign);
    expect(first.changes.map((c) => c.action)).toEqual(ours.map(() => 'add'));
    const second = mergeTools(first.tools, ours);
    expect(second.changes).toEqual([]);
    expect(sameJson(second.tools, first.tools)).toBe(true);
  });

  it('brings a tool with one of our names to our definition, keeping fields we do not set and dropping args_at_root', () => {
    const mine = { ...ours[1]!, url: 'https://old.example.com', args_at_root: true, headers: { a: 'b' } };
    const r = mergeTools([mine], ours);
    const merged = r.tools[0]!;
    expect(merged.url).toBe(ours[1]!.url);
    expect(merged.headers).toEqual({ a: 'b' });
    expect('args_at_root' in merged).toBe(false);
    expect(r.changes[0]).toMatchObject({ action: 'update', field: `general_tools[${ours[1]!.name}]`, from: { url: 'https://old.example.com', args_at_root: true }, to: { url: ours[1]!.url, args_at_root: null } });
  });

  it('replaces a non-custom tool that took one of our names (names are unique in Retell)', () => {
    const r = mergeTools([{ type: 'check_availability_cal', name: 'check_availability', cal_api_key: 'x' }], ours);
    expect(r.tools[0]).toEqual(ours.find((t) => t.name === 'check_availability'));
  });
});

describe('missingAnalysisFields', () => {
  it('adds a field only for a meaning the agent has no key for, matching keys as callbook reads them', () => {
    const names = (existing: Array<Record<string, unknown>>) => missingAnalysisFields(existing, 'en').map((f) => f.name);
    expect(names([])).toEqual(['booking_confirmed', 'appointment_date', 'appointment_time', 'service', 'customer_name', 'customer_email']);
    expect(names([{ name: 'Appointment-Datetime' }, { name: 'E-Mail' }, { name: 'email' }, { name: 'Termin bestaetigt' }])).toEqual(['service', 'customer_name']);
    expect(names([{ name: 'termin_bestaetigt' }, { name: 'datum' }, { name: 'uhrzeit' }, { name: 'leistung' }, { name: 'patient_name' }, { name: 'customer_email' }])).toEqual([]);
  });
});
