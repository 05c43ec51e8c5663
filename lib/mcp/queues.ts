/**
 * `queues_status`: how far behind the queues are. The queues are shared by every company, like
 * the circuit breakers: the admin sees every queue and state; a company or branch token sees the
 * backlog (waiting, active, delayed) of the queues its calls pass through — shared figures that
 * name no tenant's jobs — and the failed booking jobs of its own company (branch) only.
 */
import { z } from 'zod';
import { QUEUE_NAMES, type QueueName } from '../queues';
import { failedInScope } from './operations';
import { isAdmin, tokenBranchId } from './scope';
import { defineTool, ok, type ToolDef } from './tool';

/** The queues a call's way passes through. */
const CALL_PATH: readonly QueueName[] = ['webhooks', 'bookings', 'notifications'];
const BACKLOG = ['waiting', 'active', 'delayed'] as const;
const ALL_STATES = [...BACKLOG, 'failed', 'completed'] as const;

const queuesStatus = defineTool({
  name: 'queues_status',
  title: 'Queue depths',
  description:
    "Jobs per queue and state. The admin: every queue, every state. A token: the shared backlog (waiting, active, delayed) of the webhooks, bookings and notifications queues, and its own company's failed booking jobs (failedBookings).",
  input: z.object({}).strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (_a, t) => {
    const admin = isAdmin(t);
    const names = admin ? QUEUE_NAMES : CALL_PATH;
    const states = admin ? ALL_STATES : BACKLOG;
    const queues = await Promise.all(
      names.map(async (name) => {
        const counts = await t.ctx.queues[name].getJobCounts(...states);
        return { name, ...Object.fromEntries(states.map((s) => [s, counts[s] ?? 0])) };
      }),
    );
    const failedBookings = (await failedInScope(t, null, tokenBranchId(t))).length;
    return ok({ scope: admin ? 'every queue' : 'shared backlog; failed bookings of your company', queues, failedBookings });
  },
});

export const queueTools: ToolDef[] = [queuesStatus];
