/**
 * Operator commands on the running system: circuit breakers, caches, failed jobs, calls.
 * Everything that changes state writes an audit_log row; `calls show` reads personal data and
 * writes one too.
 */
import type { Command } from 'commander';
import { open, openJson } from '../../../lib/pii';
import type { Job } from 'bullmq';
import { appointmentsOfCall, callByRetellId, customerOf } from '../../../lib/calls/queries';
import { audit } from '../../../lib/audit';
import { isQueueName, QUEUE_NAMES, type QueueName } from '../../../lib/queues';
import { serviceBreaker, type ExternalService } from '../../../lib/resilience/service-breakers';
import { CliError, print, type Run } from '../output';
import { actor } from '../resolve';

const SERVICES: ExternalService[] = ['calcom', 'retell'];

function queuesFrom(opt: string | undefined): QueueName[] {
  if (!opt) return [...QUEUE_NAMES];
  if (!isQueueName(opt)) throw new CliError(`--queue must be one of ${QUEUE_NAMES.join(', ')} (got "${opt}")`, 2);
  return [opt];
}

function describeJob(q: string, j: Job) {
  return {
    queue: q,
    id: j.id,
    name: j.name,
    attempts: j.attemptsMade,
    failedAt: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
    reason: j.failedReason,
  };
}

export function registerOperations(program: Command, run: Run): void {
  const breaker = program.command('breaker').description('circuit breakers (state shared by all processes, in Redis)');
  breaker
    .command('status')
    .description('state of the calcom and retell breakers')
    .action(() =>
      run(async (ctx, json) => {
        const rows = await Promise.all(SERVICES.map((s) => serviceBreaker(s, { redis: ctx.redis, ns: ctx.ns, logger: ctx.logger }).status()));
        print(json, rows, () =>
          rows
            .map((r) => `${r.service.padEnd(7)} ${r.state}${r.failures ? `, ${r.failures} consecutive failures` : ''}${r.retryAt && r.state !== 'CLOSED' ? `, probe at ${new Date(r.retryAt).toISOString()}` : ''}`)
            .join('\n'),
        );
      }),
    );
  breaker
    .command('reset <service>')
    .description('force a breaker closed (calcom | retell)')
    .action((service: string) =>
      run(async (ctx, json) => {
        if (!SERVICES.includes(service as ExternalService)) throw new CliError(`service must be one of ${SERVICES.join(', ')}`, 2);
        const b = serviceBreaker(service as ExternalService, { redis: ctx.redis, ns: ctx.ns, logger: ctx.logger });
        const before = await b.status();
        await b.reset();
        await audit(ctx.database.db, { actor: actor(), action: 'breaker.reset', target: `breaker:${service}`, details: { from: before.state } });
        print(json, { service, from: before.state, to: 'CLOSED' }, () => `${service}: ${before.state} → CLOSED`);
      }),
    );

  program
    .command('cache')
    .description('caches (L1 in each process expires within 30 s; L2 in Redis is cleared now)')
    .command('clear')
    .option('--prefix <prefix>', 'only keys starting with this (e.g. mcp:calcom:availability:)', 'mcp:')
    .action((o: { prefix: string }) =>
      run(async (ctx, json) => {
        const removed = await ctx.cache.invalidatePrefix(o.prefix);
        await audit(ctx.database.db, { actor: actor(), action: 'cache.clear', target: o.prefix, details: { removed } });
        print(json, { prefix: o.prefix, removed }, () => `removed ${removed} keys under ${o.prefix}`);
      }),
    );

  const failed = program.command('failed').description('failed jobs: see why, retry');
  failed
    .command('list')
    .option('--queue <name>', 'one queue (default: all)')
    .option('--limit <n>', 'per queue', '50')
    .action((o: { queue?: string; limit: string }) =>
      run(async (ctx, json) => {
        const rows: Array<ReturnType<typeof describeJob>> = [];
        for (const q of queuesFrom(o.queue)) {
          for (const j of await ctx.queues[q].getFailed(0, Number(o.limit) - 1)) rows.push(describeJob(q, j));
        }
        print(json, rows, () => (rows.length ? rows.map((r) => `${r.queue}/${r.id} (${r.attempts} attempts, ${r.failedAt}): ${r.reason}`).join('\n') : 'no failed jobs'));
      }),
    );
  failed
    .command('retry')
    .option('--queue <name>', 'one queue (default: all)')
    .option('--id <jobId>', 'one job')
    .option('--all', 'every failed job of the queue(s)')
    .action((o: { queue?: string; id?: string; all?: boolean }) =>
      run(async (ctx, json) => {
        if (!o.id && !o.all) throw new CliError('say which: --id <jobId> or --all', 2);
        const retried: Array<{ queue: string; id: string }> = [];
        for (const q of queuesFrom(o.queue)) {
          const jobs = o.id ? [await ctx.queues[q].getJob(o.id)].filter((j): j is Job => Boolean(j)) : await ctx.queues[q].getFailed(0, -1);
          for (const j of jobs) {
            if ((await j.getState()) !== 'failed') {
              if (o.id) throw new CliError(`${q}/${j.id} is not failed (it is ${await j.getState()})`, 2);
              continue;
            }
            await j.retry('failed');
            retried.push({ queue: q, id: j.id! });
          }
        }
        if (o.id && retried.length === 0) throw new CliError(`no failed job with id ${o.id}${o.queue ? ` in ${o.queue}` : ''}`, 2);
        await audit(ctx.database.db, { actor: actor(), action: 'failed.retry', target: o.id ?? `${o.queue ?? 'all'}:all`, details: { jobs: retried } });
        print(json, { retried }, () => `retried ${retried.length} job(s)${retried.length ? `: ${retried.map((r) => `${r.queue}/${r.id}`).join(', ')}` : ''}`);
      }),
    );

  program
    .command('calls')
    .description('calls as recorded')
    .command('show <retellCallId>')
    .description('one call with its transcript, customer and appointment (writes an audit row: personal data)')
    .action((id: string) =>
      run(async (ctx, json) => {
        const db = ctx.database.db;
        const stored = await callByRetellId(db, id);
        if (!stored) throw new CliError(`no call ${id}`, 2);
        // Personal data may be stored encrypted (lib/pii): shown decrypted.
        const call = { ...stored, fromNumber: open(stored.fromNumber), toNumber: open(stored.toNumber), transcript: open(stored.transcript), summary: open(stored.summary), recordingUrl: open(stored.recordingUrl) };
        const storedCustomer = call.customerId ? await customerOf(db, call.companyId, call.customerId) : undefined;
        const customer = storedCustomer ? { ...storedCustomer, name: open(storedCustomer.name), phone: open(storedCustomer.phone), email: open(storedCustomer.email) } : undefined;
        const appts = await appointmentsOfCall(db, call);
        await audit(db, { companyId: call.companyId, actor: actor(), action: 'calls.show', target: `call:${id}` });
        const out = {
          call: { ...call, dynamicVariables: openJson(call.dynamicVariables), analysisData: openJson(call.analysisData) },
          customer: customer ? { id: customer.id, name: customer.name, phone: customer.phone, email: customer.email } : null,
          appointments: appts.map((a) => ({ id: a.id, status: a.status, start: a.startAt, calcomUid: a.calcomBookingUid, failureReason: a.failureReason })),
        };
        print(json, out, () =>
          [
            `call ${call.retellCallId} — ${call.status}, ${call.direction ?? ''} ${call.fromNumber ?? '?'} → ${call.toNumber ?? '?'}, ${call.startedAt?.toISOString() ?? ''}`,
            `customer: ${customer ? `${customer.name ?? '(no name)'} ${customer.phone}` : 'none'}`,
            `sentiment: ${call.sentiment ?? '-'}; summary: ${call.summary ?? '-'}`,
            `booking decision: ${call.bookingDecision ?? 'none'}${call.bookingReason ? ` (${call.bookingReason})` : ''}`,
            ...out.appointments.map((a) => `appointment #${a.id}: ${a.status} ${a.start.toISOString()}${a.calcomUid ? ` uid ${a.calcomUid}` : ''}${a.failureReason ? ` — ${a.failureReason}` : ''}`),
            '',
            call.transcript ?? '(no transcript)',
          ].join('\n'),
        );
      }),
    );
}
