/**
 * Which handler serves which queue. A queue without an entry has no worker in this version;
 * `startWorkers` refuses it by name rather than consuming its jobs blindly. Each handler module
 * is imported only by a process that serves its queue, so a `bookings` process never loads the
 * sync's Retell SDK nor the notifications' mailer (bench/RESULTS.md, "Lean processes").
 */
import type { AppContext } from '../lib/context';
import type { QueueName } from '../lib/queues';
import type { JobHandler } from './run-job';

type HandlerFactory = (ctx: AppContext) => JobHandler;

export const HANDLERS: Partial<Record<QueueName, () => Promise<HandlerFactory>>> = {
  webhooks: async () => (await import('./webhooks')).webhooksHandler,
  bookings: async () => (await import('./bookings')).bookingsHandler,
  sync: async () => (await import('./sync')).syncHandler,
  notifications: async () => (await import('./notifications')).notificationsHandler,
  default: async () => (await import('./default')).defaultHandler,
};
