/**
 * Which handler serves which queue. A queue without an entry has no worker in this version;
 * `startWorkers` refuses it by name rather than consuming its jobs blindly.
 */
import type { AppContext } from '../lib/context';
import type { QueueName } from '../lib/queues';
import type { JobHandler } from './run-job';
import { bookingsHandler } from './bookings';
import { defaultHandler } from './default';
import { notificationsHandler } from './notifications';
import { syncHandler } from './sync';
import { webhooksHandler } from './webhooks';

export const HANDLERS: Partial<Record<QueueName, (ctx: AppContext) => JobHandler>> = {
  webhooks: webhooksHandler,
  bookings: bookingsHandler,
  sync: syncHandler,
  notifications: notificationsHandler,
  default: defaultHandler,
};
