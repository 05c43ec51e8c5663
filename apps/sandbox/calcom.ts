/**
 * The Cal.com simulator the sandbox books against, seeded from the tenants file itself: one
 * account per company (its calcomApiKey and calcomUsername), one event type per service, team
 * event types under their team. So `examples/tenants.yaml` is both the demo tenant and the
 * demo Cal.com.
 */
import { createCalcomSim, startCalcomSim, type RunningCalcomSim } from '../../sim/calcom';
import type { TenantsFile } from '../../lib/tenants/file-schema';

export async function startSandboxCalcom(tenants: TenantsFile, port: number): Promise<RunningCalcomSim> {
  const sim = createCalcomSim();
  for (const company of tenants.companies) {
    if (!company.calcomApiKey) continue;
    const teamIds = [...new Set(company.services.flatMap((s) => (s.calcomTeamId ? [s.calcomTeamId] : [])))];
    sim.addAccount({
      apiKey: company.calcomApiKey,
      username: company.calcomUsername ?? company.slug,
      timeZone: company.branches[0]!.timezone,
      name: company.name,
      teamIds,
    });
    for (const s of company.services) {
      sim.addEventType({
        id: s.calcomEventTypeId,
        slug: s.slug,
        title: s.name,
        lengthInMinutes: s.durationMinutes,
        ownerApiKey: company.calcomApiKey,
        ...(s.calcomTeamId ? { teamId: s.calcomTeamId, schedulingType: 'roundRobin' as const } : {}),
        // Open every day 8–20 so a demo call at any time finds slots.
        schedule: { days: [1, 2, 3, 4, 5, 6, 7], startHour: 8, endHour: 20 },
      });
    }
  }
  return startCalcomSim(sim, port);
}
