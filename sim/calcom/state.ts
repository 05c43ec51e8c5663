/**
 * The simulator's in-memory store: accounts (API keys), event types, bookings, webhooks and the request log,
 * with the ownership rules every route shares, and `seedDemo` for a ready-to-use standalone account.
 */
import { randomBytes } from 'node:crypto';
import { isValidTimeZone } from './time-zone';
import type {
  SimAccount,
  SimBooking,
  SimEventType,
  SimRequestLogEntry,
  SimWebhook,
  SimWebhookDelivery,
} from './types';

export const DEFAULT_RATE_LIMIT = 120;
export const DEFAULT_SCHEDULE: Readonly<{ days: readonly number[]; startHour: number; endHour: number }> = {
  days: [1, 2, 3, 4, 5],
  startHour: 9,
  endHour: 17,
};

/** An account with every default filled in. */
export interface AccountRecord {
  apiKey: string;
  id: number;
  username: string;
  name: string;
  email: string;
  timeZone: string;
  rateLimitPerMinute: number;
  teamIds: number[];
}

const BASE58 = '123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ';

/** A 22-character base58 uid, the shape of Cal.com's short-uuid booking uids. */
export function newUid(): string {
  const bytes = randomBytes(22);
  let out = '';
  for (const b of bytes) out += BASE58[b % BASE58.length];
  return out;
}

export class SimState {
  readonly accounts = new Map<string, AccountRecord>();
  readonly eventTypes = new Map<number, SimEventType>();
  // Every booking, oldest first, only ever added through `addBooking`, which keeps the indexes
  // below: bench/e2e books thousands, and each booking's host check and a lookup by uid read
  // these instead of walking every booking. A booking's uid and hosts never change once added
  // (its hosts are frozen); its status and times may, and are read at query time.
  readonly #bookings: SimBooking[] = [];
  private readonly byUid = new Map<string, SimBooking>();
  private readonly byHost = new Map<string, SimBooking[]>();
  webhooks: SimWebhook[] = [];
  log: SimRequestLogEntry[] = [];
  deliveries: SimWebhookDelivery[] = [];
  private nextUserId = 1;
  private nextBookingId = 1;
  private nextWebhookId = 1;

  addAccount(a: SimAccount): AccountRecord {
    if (!a.apiKey) throw new Error('calcom-sim: account needs an apiKey');
    if (!a.username) throw new Error('calcom-sim: account needs a username');
    if (!isValidTimeZone(a.timeZone)) throw new Error(`calcom-sim: invalid timeZone "${a.timeZone}"`);
    const clash = [...this.accounts.values()].find((x) => x.username === a.username && x.apiKey !== a.apiKey);
    if (clash) throw new Error(`calcom-sim: username "${a.username}" is taken`);
    const previous = this.accounts.get(a.apiKey);
    const id = a.id ?? previous?.id ?? this.nextUserId;
    this.nextUserId = Math.max(this.nextUserId, id + 1);
    const record: AccountRecord = {
      apiKey: a.apiKey,
      id,
      username: a.username,
      name: a.name ?? a.username,
      email: a.email ?? `${a.username}@example.com`,
      timeZone: a.timeZone,
      rateLimitPerMinute: a.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT,
      teamIds: [...(a.teamIds ?? [])],
    };
    this.accounts.set(a.apiKey, record);
    return record;
  }

  addEventType(e: SimEventType): void {
    if (!Number.isInteger(e.id) || e.id <= 0) throw new Error(`calcom-sim: event type id must be a positive integer`);
    if (!this.accounts.has(e.ownerApiKey)) {
      throw new Error(`calcom-sim: event type ${e.id}: add the owner account (ownerApiKey) first`);
    }
    if (!(e.lengthInMinutes > 0)) throw new Error(`calcom-sim: event type ${e.id}: lengthInMinutes must be > 0`);
    const s = e.schedule;
    if (s && (s.days.some((d) => d < 1 || d > 7) || s.startHour < 0 || s.endHour > 24 || s.startHour >= s.endHour)) {
      throw new Error(`calcom-sim: event type ${e.id}: schedule needs days 1-7 and 0 <= startHour < endHour <= 24`);
    }
    this.eventTypes.set(e.id, structuredClone(e));
  }

  removeEventType(id: number): void {
    this.eventTypes.delete(id);
  }

  account(apiKey: string | undefined): AccountRecord | undefined {
    return apiKey === undefined ? undefined : this.accounts.get(apiKey);
  }

  accountByUsername(username: string): AccountRecord | undefined {
    return [...this.accounts.values()].find((a) => a.username === username);
  }

  accountById(id: number): AccountRecord | undefined {
    return [...this.accounts.values()].find((a) => a.id === id);
  }

  /** A member of a team: listed in `teamIds`, or the owner of one of the team's event types. */
  isTeamMember(account: AccountRecord, teamId: number): boolean {
    if (account.teamIds.includes(teamId)) return true;
    for (const et of this.eventTypes.values()) {
      if (et.teamId === teamId && et.ownerApiKey === account.apiKey) return true;
    }
    return false;
  }

  /** The owner of an event type, or a member of its team. */
  canUseEventType(account: AccountRecord, et: SimEventType): boolean {
    if (et.ownerApiKey === account.apiKey) return true;
    return et.teamId !== undefined && this.isTeamMember(account, et.teamId);
  }

  /** Bookings a key may read and change: it hosts or owns them, or they belong to one of its teams. */
  canSeeBooking(account: AccountRecord, b: SimBooking): boolean {
    if (b.ownerApiKey === account.apiKey || b.hostApiKeys.includes(account.apiKey)) return true;
    return b.teamId !== undefined && this.isTeamMember(account, b.teamId);
  }

  /** The users who host an event type: the owner, plus every member of its team. */
  hostsOf(et: SimEventType): AccountRecord[] {
    const owner = this.accounts.get(et.ownerApiKey);
    const hosts = owner ? [owner] : [];
    if (et.teamId !== undefined) {
      for (const a of this.accounts.values()) {
        if (a !== owner && a.teamIds.includes(et.teamId)) hosts.push(a);
      }
    }
    return hosts;
  }

  takeBookingId(): number {
    return this.nextBookingId++;
  }

  takeWebhookId(): number {
    return this.nextWebhookId++;
  }

  get bookings(): readonly SimBooking[] {
    return this.#bookings;
  }

  addBooking(b: SimBooking): void {
    Object.freeze(b.hostApiKeys);
    this.#bookings.push(b);
    if (!this.byUid.has(b.uid)) this.byUid.set(b.uid, b);
    for (const key of new Set(b.hostApiKeys)) {
      const list = this.byHost.get(key);
      if (list) list.push(b);
      else this.byHost.set(key, [b]);
    }
  }

  bookingByUid(uid: string): SimBooking | undefined {
    return this.byUid.get(uid);
  }

  /**
   * Every booking that occupies any of `hostApiKeys`, each once, in no particular order — or all
   * bookings, when these hosts hold about half of them or more: callers check each booking's hosts
   * anyway, and walking the whole list is then cheaper than merging the hosts' lists.
   */
  bookingsOfHosts(hostApiKeys: readonly string[]): readonly SimBooking[] {
    if (hostApiKeys.length === 1) return this.byHost.get(hostApiKeys[0]!) ?? [];
    const keys = new Set(hostApiKeys);
    let held = 0;
    for (const key of keys) held += this.byHost.get(key)?.length ?? 0;
    if (held * 2 >= this.#bookings.length) return this.#bookings;
    // Only a booking with several hosts can be in two of these lists: only those are checked for repeats.
    const out: SimBooking[] = [];
    const multi = new Set<SimBooking>();
    for (const key of keys) {
      for (const b of this.byHost.get(key) ?? []) {
        if (b.hostApiKeys.length > 1) {
          if (multi.has(b)) continue;
          multi.add(b);
        }
        out.push(b);
      }
    }
    return out;
  }

  /** Forgets runtime data; with `all`, the configuration too. */
  reset(all: boolean): void {
    this.#bookings.length = 0;
    this.byUid.clear();
    this.byHost.clear();
    this.log = [];
    this.deliveries = [];
    this.nextBookingId = 1;
    if (all) {
      this.accounts.clear();
      this.eventTypes.clear();
      this.webhooks = [];
      this.nextUserId = 1;
      this.nextWebhookId = 1;
    }
  }
}

export interface DemoSeed {
  account: SimAccount;
  eventTypes: SimEventType[];
}

/**
 * A demo account with one personal and one team event type, read from the environment with defaults:
 * `CALCOM_SIM_API_KEY` (cal_test_demo), `CALCOM_SIM_USERNAME` (demo), `CALCOM_SIM_TIMEZONE` (Europe/Berlin),
 * `CALCOM_SIM_RATE_LIMIT` (120).
 *
 * @example
 * const sim = createCalcomSim();
 * const seed = demoSeed(process.env);
 * sim.addAccount(seed.account);
 * seed.eventTypes.forEach((e) => sim.addEventType(e));
 */
export function demoSeed(env: Record<string, string | undefined> = {}): DemoSeed {
  const apiKey = env.CALCOM_SIM_API_KEY || 'cal_test_demo';
  const rateLimit = Number(env.CALCOM_SIM_RATE_LIMIT);
  const account: SimAccount = {
    apiKey,
    username: env.CALCOM_SIM_USERNAME || 'demo',
    timeZone: env.CALCOM_SIM_TIMEZONE || 'Europe/Berlin',
    rateLimitPerMinute: Number.isFinite(rateLimit) && rateLimit > 0 ? rateLimit : undefined,
    name: 'Demo Praxis',
    teamIds: [77],
  };
  return {
    account,
    eventTypes: [
      { id: 1001, slug: 'beratung-30', title: 'Beratung', lengthInMinutes: 30, ownerApiKey: apiKey },
      { id: 1002, slug: 'erstgespraech-60', title: 'Erstgespräch', lengthInMinutes: 60, ownerApiKey: apiKey },
      {
        id: 2001,
        slug: 'team-termin',
        title: 'Team-Termin',
        lengthInMinutes: 30,
        ownerApiKey: apiKey,
        teamId: 77,
        teamSlug: 'demo-team',
        schedulingType: 'roundRobin',
      },
    ],
  };
}
