/** The Cal.com simulator's accounts and event types matching the twoCompanies() tenants (no vitest: scripts/smoke.ts uses it too). */
import type { CalcomSim } from '../../sim/calcom';

export const SALON_KEY = 'cal_test_salon_key';
export const CLINIC_KEY = 'cal_test_clinic_key';

export function seedTwoCompanies(sim: CalcomSim): void {
  sim.addAccount({ apiKey: SALON_KEY, username: 'salon-anna', timeZone: 'Europe/Berlin' });
  sim.addAccount({ apiKey: CLINIC_KEY, username: 'clinic-nord', timeZone: 'Europe/Berlin', teamIds: [77] });
  sim.addEventType({ id: 1001, slug: 'haircut', title: 'Haircut', lengthInMinutes: 30, ownerApiKey: SALON_KEY });
  sim.addEventType({ id: 1002, slug: 'coloring', title: 'Coloring', lengthInMinutes: 90, ownerApiKey: SALON_KEY });
  sim.addEventType({ id: 2001, slug: 'checkup', title: 'Check-up', lengthInMinutes: 20, ownerApiKey: CLINIC_KEY, teamId: 77, schedulingType: 'roundRobin' });
}
