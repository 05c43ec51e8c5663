/**
 * The per-process fan-out of live events: one Redis subscriber connection shared by every
 * listener in the process (an SSE client, a test), subscribed to a company's channel while at
 * least one listener wants it (reference counted: the first listener SUBSCRIBEs, the last one
 * leaving UNSUBSCRIBEs). Messages are parsed once and handed to each listener of the channel.
 * ioredis re-subscribes by itself after a reconnect; events published meanwhile are lost
 * (pub/sub keeps no history — live updates are hints, the database is the record).
 *
 * @example
 *   const hub = sharedEventHub({ redisUrl, ns, logger });
 *   const stop = await hub.subscribe(companyId, { onEvent: (e) => send(e), onClose: () => end() });
 *   …
 *   stop();
 */
import type { Logger } from 'pino';
import { createRedis, type Redis } from '../redis';
import { eventsChannel, type LiveEvent } from './index';

/** A published event as received: the LiveEvent plus the publisher's timestamp. */
export type LiveEventMessage = LiveEvent & { at?: string };

export interface HubListener {
  onEvent(event: LiveEventMessage): void;
  /** The hub is closing (process shutdown): end the stream. */
  onClose?(): void;
}

interface Channel {
  listeners: Set<HubListener>;
  /** Settles when Redis acknowledged the SUBSCRIBE. */
  ready: Promise<void>;
}

export interface EventHubOptions {
  redisUrl: string;
  ns: string;
  logger?: Logger;
  /** Test seam: the subscriber connection. */
  connect?: () => Redis;
}

export class EventHub {
  private sub: Redis | undefined;
  private readonly channels = new Map<string, Channel>();
  private closed = false;

  constructor(private readonly opts: EventHubOptions) {}

  private connection(): Redis {
    if (!this.sub) {
      const sub = this.opts.connect?.() ?? createRedis(this.opts.redisUrl, 'client', { connectionName: 'callbook-events' });
      sub.on('message', (channel: string, message: string) => this.dispatch(channel, message));
      this.sub = sub;
    }
    return this.sub;
  }

  private dispatch(channel: string, message: string): void {
    const entry = this.channels.get(channel);
    if (!entry || entry.listeners.size === 0) return;
    let event: LiveEventMessage;
    try {
      event = JSON.parse(message) as LiveEventMessage;
    } catch {
      this.opts.logger?.warn({ channel }, 'live event is not JSON; dropped');
      return;
    }
    for (const l of entry.listeners) {
      try {
        l.onEvent(event);
      } catch (err) {
        this.opts.logger?.warn({ err }, 'live event listener failed');
      }
    }
  }

  /**
   * Listen to a company's events; resolves once Redis confirmed the subscription (events
   * published after that reach the listener). Returns the function that stops listening.
   */
  async subscribe(companyId: number, listener: HubListener): Promise<() => void> {
    if (this.closed) throw new Error('event hub is closed');
    const channel = eventsChannel(this.opts.ns, companyId);
    let entry = this.channels.get(channel);
    if (!entry) {
      const ready = this.connection()
        .subscribe(channel)
        .then(() => undefined);
      entry = { listeners: new Set(), ready };
      this.channels.set(channel, entry);
    }
    entry.listeners.add(listener);
    const mine = entry;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      mine.listeners.delete(listener);
      if (mine.listeners.size === 0 && this.channels.get(channel) === mine) {
        this.channels.delete(channel);
        // Commands on one connection run in order: a SUBSCRIBE issued after this (a new first
        // listener) still wins.
        this.sub?.unsubscribe(channel).catch((err: unknown) => this.opts.logger?.warn({ err, channel }, 'unsubscribe failed'));
      }
    };
    try {
      await mine.ready;
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }

  /** Channels subscribed and listeners attached (for tests and metrics). */
  stats(): { channels: number; listeners: number } {
    let listeners = 0;
    for (const c of this.channels.values()) listeners += c.listeners.size;
    return { channels: this.channels.size, listeners };
  }

  /** End every listener's stream and drop the subscriber connection. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.channels.values()].flatMap((c) => [...c.listeners]);
    this.channels.clear();
    for (const l of all) {
      try {
        l.onClose?.();
      } catch {
        // closing anyway
      }
    }
    const sub = this.sub;
    this.sub = undefined;
    if (sub) {
      await sub.quit().catch(() => undefined);
      sub.disconnect();
    }
  }
}

const hubs = new Map<string, EventHub>();

/** The process's hub for one Redis and namespace (created on first use). */
export function sharedEventHub(opts: EventHubOptions): EventHub {
  const key = `${opts.redisUrl}|${opts.ns}`;
  let hub = hubs.get(key);
  if (!hub) {
    hub = new EventHub(opts);
    hubs.set(key, hub);
  }
  return hub;
}

/** Close every hub of this process: open SSE streams end, so the HTTP server can close. */
export async function closeEventHubs(): Promise<void> {
  const all = [...hubs.values()];
  hubs.clear();
  await Promise.all(all.map((h) => h.close()));
}
