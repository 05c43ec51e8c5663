/**
 * The sandbox's Retell simulator, seeded from the demo tenants rather than the simulator's own
 * fixture account: one agent (with its LLM) per branch, bound to each of the branch's numbers,
 * its webhook pointing at this sandbox with the three events callbook needs. So the first sync
 * finds exactly the numbers and agents the tenants file declares and reports no problems.
 */
import type { TenantsFile } from '../../lib/tenants/file-schema';
import type { RetellSim } from '../../sim/retell';

const WEBHOOK_EVENTS = ['call_started', 'call_ended', 'call_analyzed'];

export function seedRetellFromTenants(sim: Pick<RetellSim, 'addLlm' | 'addAgent' | 'addPhoneNumber'>, tenants: TenantsFile, publicUrl: string, now = Date.now()): void {
  const webhook = `${publicUrl.replace(/\/+$/, '')}/webhooks/retell`;
  for (const company of tenants.companies) {
    for (const branch of company.branches) {
      const id = `${company.slug}_${branch.slug}`.replace(/[^a-z0-9_]/gi, '_');
      const language = branch.language ?? company.language ?? 'de';
      sim.addLlm({
        llm_id: `llm_sandbox_${id}`,
        version: 0,
        is_published: true,
        general_prompt: language === 'de' ? `Du bist die Telefonassistenz von ${branch.name}. Vereinbare Termine.` : `You are the phone assistant of ${branch.name}. Book appointments.`,
        begin_message: language === 'de' ? `${branch.name}, guten Tag!` : `${branch.name}, hello!`,
        general_tools: [],
        states: [],
        last_modification_timestamp: now,
      });
      sim.addAgent({
        agent_id: `agent_sandbox_${id}`,
        agent_name: branch.name,
        channel: 'voice',
        version: 0,
        is_published: true,
        response_engine: { type: 'retell-llm', llm_id: `llm_sandbox_${id}`, version: 0 },
        language: language === 'de' ? 'de-DE' : 'en-US',
        webhook_url: webhook,
        webhook_events: WEBHOOK_EVENTS,
        last_modification_timestamp: now,
      });
      for (const e164 of branch.phoneNumbers) {
        sim.addPhoneNumber({
          phone_number: e164,
          phone_number_type: 'retell-twilio',
          nickname: branch.name,
          inbound_agents: [{ agent_id: `agent_sandbox_${id}`, agent_version: 0, weight: 1 }],
          outbound_agents: null,
          last_modification_timestamp: now,
        });
      }
    }
  }
}
