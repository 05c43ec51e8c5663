/** `callbook availability <service> <date>` and `callbook book`: Cal.com through callbook's own path. */
import type { Command } from 'commander';
import { DateTime } from 'luxon';
import { audit } from '../../../lib/audit';
import { freeSlotsOn } from '../../../lib/booking/availability';
import { executeBooking } from '../../../lib/booking/book';
import { bookingDeps } from '../../../lib/booking/deps';
import { BookingDeferred, BookingRejected } from '../../../lib/booking/errors';
import { manualBookingJob } from '../../../lib/booking/manual';
import { parseRequestedRange, parseRequestedStart } from '../../../lib/datetime';
import { CliError, print, type Run } from '../output';
import { actor, resolveBranch, resolveCompany, resolveService } from '../resolve';

/** YYYY-MM-DD, or a spoken day ("morgen", "next tuesday") read in the branch's zone. */
function localDate(text: string, timeZone: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text;
  const range = parseRequestedRange(text, { timeZone });
  if (!range) throw new CliError(`cannot read the date "${text}" (use YYYY-MM-DD or e.g. "morgen")`, 2);
  return DateTime.fromJSDate(range.from).setZone(timeZone).toISODate()!;
}

export function registerBooking(program: Command, run: Run): void {
  program
    .command('availability <service> <date>')
    .description('free slots of a service on a day (YYYY-MM-DD or spoken, in the branch time zone)')
    .option('--company <slug>', 'company (optional when there is one)')
    .option('--branch <slug>', 'branch (optional when the company has one)')
    .action((serviceSlug: string, dateText: string, o: { company?: string; branch?: string }) =>
      run(async (ctx, json) => {
        const db = ctx.database.db;
        const company = await resolveCompany(db, o.company);
        const branch = await resolveBranch(db, company, o.branch);
        const service = await resolveService(db, company, branch, serviceSlug);
        const date = localDate(dateText, branch.timezone);
        const deps = bookingDeps(ctx);
        if (!company.calcomApiKeyEnc) throw new CliError(`${company.slug} has no Cal.com API key`, 2);
        const slots = await freeSlotsOn(ctx.cache, deps.clientFor(ctx.cipher.decrypt(company.calcomApiKeyEnc)), {
          eventTypeId: service.calcomEventTypeId,
          date,
          timeZone: branch.timezone,
        });
        const local = slots.map((s) => DateTime.fromISO(s).setZone(branch.timezone).toFormat('HH:mm'));
        print(json, { company: company.slug, branch: branch.slug, service: service.slug, date, timeZone: branch.timezone, slots }, () =>
          local.length ? `${service.name} at ${branch.name} on ${date} (${branch.timezone}): ${local.join(', ')}` : `no free slot for ${service.name} on ${date}`,
        );
      }),
    );

  program
    .command('book')
    .description('book directly (same exactly-once path as calls; running it twice books once)')
    .requiredOption('--service <slug>', 'service slug or Cal.com event type id')
    .requiredOption('--phone <e164>', "customer's phone number")
    .requiredOption('--at <time>', 'start: ISO, "2026-12-01 11:00" or spoken, in the branch time zone')
    .option('--name <name>', "customer's name")
    .option('--email <email>', "customer's email")
    .option('--company <slug>')
    .option('--branch <slug>')
    .action((o: { service: string; phone: string; at: string; name?: string; email?: string; company?: string; branch?: string }) =>
      run(async (ctx, json) => {
        const db = ctx.database.db;
        if (!/^\+[1-9]\d{5,14}$/.test(o.phone)) throw new CliError(`--phone must be E.164, e.g. +4930123456 (got "${o.phone}")`, 2);
        const company = await resolveCompany(db, o.company);
        const branch = await resolveBranch(db, company, o.branch);
        const service = await resolveService(db, company, branch, o.service);
        const when = parseRequestedStart(o.at, { timeZone: branch.timezone });
        if (!when?.hasTime) throw new CliError(`cannot read a start time from "${o.at}"`, 2);
        const job = await manualBookingJob(db, { companyId: company.id, branchId: branch.id, service, phone: o.phone, name: o.name, email: o.email, start: when.start, source: 'cli' });
        const start = job.start;
        await audit(db, { companyId: company.id, actor: actor(), action: 'booking.create', target: `service:${service.slug}`, details: { start, branch: branch.slug } });
        try {
          const result = await executeBooking(bookingDeps(ctx), job);
          const local = DateTime.fromISO(result.start).setZone(branch.timezone).toFormat('yyyy-MM-dd HH:mm');
          print(json, result, () => `${result.status === 'booked' ? 'booked' : 'already booked'}: ${service.name} at ${branch.name}, ${local} (${branch.timezone}), appointment #${result.appointmentId}, Cal.com uid ${result.uid}`);
        } catch (err) {
          if (err instanceof BookingRejected) throw new CliError(`not booked: ${err.reason}`, 1, { alternatives: err.alternatives });
          if (err instanceof BookingDeferred) throw new CliError(`not booked now: ${err.message}`, 1);
          throw err;
        }
      }),
    );
}
