/**
 * Checks a service's event type against Cal.com before booking, from a cached catalogue
 * (`mcp:calcom:event_types:<company>`, 5 min): the company's user event types (by its Cal.com
 * username) and the team event types of every team its services name. The team id lives in
 * the services table and is used only here — to discover and validate — never sent when booking.
 */
import { cacheKeys, TTL_MS, type TieredCache } from '../cache';
import type { CalcomClient } from '../calcom';

export interface CatalogueEntry {
  id: number;
  slug: string;
  lengthInMinutes: number;
  teamId: number | null;
}

export interface Catalogue {
  /** Whether the catalogue lists the user's own event types (a username was known). */
  hasUserTypes: boolean;
  teams: number[];
  eventTypes: CatalogueEntry[];
}

/** The cached catalogue when it covers these teams, else null; never asks Cal.com. */
export async function cachedCatalogue(cache: TieredCache, company: { id: number; calcomUsername: string | null }, teamIds: number[]): Promise<Catalogue | null> {
  const cached = await cache.getOrLoad<Catalogue | null>(cacheKeys.eventTypes(company.id), TTL_MS.eventTypes, async () => null);
  return cached && teamIds.every((t) => cached.teams.includes(t)) && cached.hasUserTypes === Boolean(company.calcomUsername) ? cached : null;
}

export async function loadCatalogue(
  cache: TieredCache,
  client: Pick<CalcomClient, 'listEventTypes' | 'listTeamEventTypes'>,
  company: { id: number; calcomUsername: string | null },
  teamIds: number[],
  signal?: AbortSignal,
): Promise<Catalogue> {
  const key = cacheKeys.eventTypes(company.id);
  const teams = [...new Set(teamIds)].sort((a, b) => a - b);
  const cached = await cache.getOrLoad<Catalogue | null>(key, TTL_MS.eventTypes, async () => null);
  if (cached && teams.every((t) => cached.teams.includes(t)) && cached.hasUserTypes === Boolean(company.calcomUsername)) return cached;
  const eventTypes: CatalogueEntry[] = [];
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
  const catalogue: Catalogue = { hasUserTypes: Boolean(company.calcomUsername), teams, eventTypes };
  await cache.set(key, catalogue, TTL_MS.eventTypes);
  return catalogue;
}

/** A reason the service cannot be booked, or null when it can (or cannot be checked). */
export function checkService(catalogue: Catalogue, service: { slug: string; calcomEventTypeId: number; calcomTeamId: number | null }): string | null {
  const found = catalogue.eventTypes.find((e) => e.id === service.calcomEventTypeId);
  if (service.calcomTeamId !== null) {
    if (!found) return `event type ${service.calcomEventTypeId} (service ${service.slug}) is not an event type of Cal.com team ${service.calcomTeamId}`;
    if (found.teamId !== service.calcomTeamId) return `event type ${service.calcomEventTypeId} belongs to ${found.teamId ? `team ${found.teamId}` : 'a user'}, not team ${service.calcomTeamId}`;
    return null;
  }
  if (catalogue.hasUserTypes && !found) return `event type ${service.calcomEventTypeId} (service ${service.slug}) does not exist in the company's Cal.com account`;
  return null;
}
