import {
  TTL_MS,
  cacheKeys
} from "./chunk-XN5S2XO3.js";

// lib/booking/event-types.ts
async function loadCatalogue(cache, client, company, teamIds, signal) {
  const key = cacheKeys.eventTypes(company.id);
  const teams = [...new Set(teamIds)].sort((a, b) => a - b);
  const cached = await cache.getOrLoad(key, TTL_MS.eventTypes, async () => null);
  if (cached && teams.every((t) => cached.teams.includes(t)) && cached.hasUserTypes === Boolean(company.calcomUsername)) return cached;
  const eventTypes = [];
  if (company.calcomUsername) {
    for (const e of await client.listEventTypes(company.calcomUsername, signal)) {
      eventTypes.push({ id: e.id, slug: e.slug, lengthInMinutes: e.lengthInMinutes, teamId: null });
    }
  }
  for (const teamId of teams) {
    for (const e of await client.listTeamEventTypes(teamId, signal)) {
      eventTypes.push({ id: e.id, slug: e.slug, lengthInMinutes: e.lengthInMinutes, teamId });
    }
  }
  const catalogue = { hasUserTypes: Boolean(company.calcomUsername), teams, eventTypes };
  await cache.set(key, catalogue, TTL_MS.eventTypes);
  return catalogue;
}
function checkService(catalogue, service) {
  const found = catalogue.eventTypes.find((e) => e.id === service.calcomEventTypeId);
  if (service.calcomTeamId !== null) {
    if (!found) return `event type ${service.calcomEventTypeId} (service ${service.slug}) is not an event type of Cal.com team ${service.calcomTeamId}`;
    if (found.teamId !== service.calcomTeamId) return `event type ${service.calcomEventTypeId} belongs to ${found.teamId ? `team ${found.teamId}` : "a user"}, not team ${service.calcomTeamId}`;
    return null;
  }
  if (catalogue.hasUserTypes && !found) return `event type ${service.calcomEventTypeId} (service ${service.slug}) does not exist in the company's Cal.com account`;
  return null;
}

export {
  loadCatalogue,
  checkService
};
//# sourceMappingURL=chunk-WCWRLYGH.js.map
