/**
 * `callbook demo-call` and `callbook test-webhook`: what Retell would send, signed with the
 * official retell-sdk, posted to a running ingress. demo-call plays a whole call
 * (call_started, call_ended, call_analyzed) and waits until callbook has decided and booked.
 */
import { demoDefaults, spokenSoon } from '../demo-defaults';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import Retell from 'retell-sdk';
import { appointmentById, appointmentsOfCall, callByRetellId, webhookEventsOfCall } from '../../../lib/calls/queries';
import type { Config } from '../../../lib/config';
import type { AppContext } from '../../../lib/context';
import { CliError, print, type Run } from '../output';

export const DEMO_TO = '+4930555000';
export const DEMO_FROM = '+4917612345678';

function collect(kv: string, acc: Record<string, string>): Record<string, string> {
  const i = kv.indexOf('=');
  if (i < 1) throw new CliError(`--var expects key=value, got "${kv}"`, 2);
  acc[kv.slice(0, i)] = kv.slice(i + 1);
  return acc;
}

export function buildCall(o: { callId: string; to: string; from: string; vars: Record<string, string> }, event: string): Record<string, unknown> {
  const now = Date.now();
  const call: Record<string, unknown> = {
    call_id: o.callId,
    agent_id: 'agent_demo',
    call_type: 'phone_call',
    call_status: event === 'call_started' ? 'ongoing' : 'ended',
    direction: 'inbound',
    from_number: o.from,
    to_number: o.to,
    start_timestamp: now - 95_000,
  };
  if (event !== 'call_started') {
    Object.assign(call, {
      end_timestamp: now,
      duration_ms: 95_000,
      disconnection_reason: 'user_hangup',
      transcript: `Agent: Guten Tag, hier ist der Salon. Wie kann ich helfen?\nUser: Ich hätte gern einen Termin ${o.vars.appointment_datetime ?? ''}, ${o.vars.service ?? ''}. Mein Name ist ${o.vars.customer_name ?? ''}.\nAgent: Gern, ist gebucht.`,
      collected_dynamic_variables: o.vars,
    });
  }
  if (event === 'call_analyzed') {
    call.call_analysis = { call_summary: 'The caller booked an appointment.', user_sentiment: 'Positive', call_successful: true, in_voicemail: false, custom_analysis_data: o.vars };
  }
  return { event, call };
}

async function send(url: string, apiKey: string, payload: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
  const body = JSON.stringify(payload);
  const res = await fetch(`${url}/webhooks/retell`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-retell-signature': await Retell.sign(body, apiKey) },
    body,
  }).catch((e: Error) => {
    throw new CliError(`cannot reach the ingress at ${url} (${e.message}); is callbook running? (npm start)`);
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function waitForOutcome(ctx: AppContext, callId: string, timeoutMs: number) {
  const db = ctx.database.db;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const call = await callByRetellId(db, callId);
    const appointment = call?.appointmentId ? await appointmentById(db, call.appointmentId) : undefined;
    const [failed] = call ? await appointmentsOfCall(db, call) : [];
    const events = await webhookEventsOfCall(db, callId);
    const rejected = events.find((e) => e.status === 'rejected' || e.status === 'failed');
    const settled = rejected || call?.bookingDecision === 'no_booking' || appointment || failed?.status === 'failed';
    if (settled || Date.now() > end) return { call, appointment: appointment ?? failed, rejected, timedOut: !settled };
    await new Promise((r) => setTimeout(r, 200));
  }
}

function ingressUrl(config: Config, given?: string): string {
  return given ?? process.env.CALLBOOK_URL ?? `http://127.0.0.1:${config.PORT}`;
}

export function registerDemoCall(program: Command, run: Run): void {
  program
    .command('demo-call')
    .description('play a whole signed Retell call against the running ingress and wait for the booking')
    .option('--url <url>', 'ingress base URL (default http://127.0.0.1:$PORT)')
    .option('--to <e164>', 'dialled business number', DEMO_TO)
    .option('--from <e164>', 'caller number', DEMO_FROM)
    .option('--name <name>', 'caller name', 'Anna Beispiel')
    .option('--service <service>', "service as spoken (default: the dialled branch's default service)")
    .option('--when <text>', 'requested time as spoken or ISO (default: a weekday soon in the branch\'s language, e.g. "am 3.12. um 14 Uhr")')
    .option('--language <lang>', "language the time is spoken in (default: the dialled branch's)")
    .option('--var <key=value>', 'extra collected variable (repeatable)', collect, {})
    .option('--timeout <ms>', 'how long to wait for the outcome', '20000')
    .action((o: { url?: string; to: string; from: string; name: string; service?: string; when?: string; language?: string; var: Record<string, string>; timeout: string }) =>
      run(async (ctx, json) => {
        const url = ingressUrl(ctx.config, o.url);
        const callId = `call_demo_${randomBytes(6).toString('hex')}`;
        const branch = await demoDefaults(ctx.database.db, o.to);
        const service = o.service ?? branch.service;
        if (!service) throw new CliError(`no --service given and ${o.to} has no branch with a default service; name one (e.g. --service "Haircut")`, 2);
        const language = o.language ?? branch.language;
        const when = o.when ?? spokenSoon(language, branch.timezone);
        const vars = { customer_name: o.name, service, appointment_datetime: when, booking_confirmed: language.startsWith('de') ? 'ja' : 'yes', ...o.var };
        const sent: Array<{ event: string; status: number }> = [];
        for (const event of ['call_started', 'call_ended', 'call_analyzed']) {
          const r = await send(url, ctx.config.RETELL_API_KEY, buildCall({ callId, to: o.to, from: o.from, vars }, event));
          if (r.status >= 300) throw new CliError(`ingress answered ${r.status} to ${event}: ${JSON.stringify(r.body)}`);
          sent.push({ event, status: r.status });
        }
        const outcome = await waitForOutcome(ctx, callId, Number(o.timeout));
        const result = {
          callId,
          asked: vars,
          sent,
          decision: outcome.call?.bookingDecision ?? null,
          reason: outcome.call?.bookingReason ?? outcome.rejected?.error ?? null,
          appointment: outcome.appointment
            ? { id: outcome.appointment.id, status: outcome.appointment.status, start: outcome.appointment.startAt, calcomUid: outcome.appointment.calcomBookingUid, failure: outcome.appointment.failureReason }
            : null,
          timedOut: outcome.timedOut,
        };
        print(json, result, () =>
          [
            `call ${callId}: ${sent.map((s) => `${s.event} → ${s.status}`).join(', ')}`,
            `asked: "${vars.appointment_datetime}", ${vars.service}, for ${vars.customer_name}`,
            `decision: ${result.decision ?? 'none yet'}${result.reason ? ` (${result.reason})` : ''}`,
            result.appointment
              ? `appointment #${result.appointment.id}: ${result.appointment.status} at ${result.appointment.start.toISOString()}${result.appointment.calcomUid ? `, Cal.com uid ${result.appointment.calcomUid}` : ''}${result.appointment.failure ? ` — ${result.appointment.failure}` : ''}`
              : result.timedOut
                ? 'no appointment yet (timed out waiting; is a bookings worker running?)'
                : 'no appointment',
          ].join('\n'),
        );
        if (outcome.timedOut) process.exitCode = 1;
      }),
    );

  program
    .command('test-webhook')
    .description('send one signed Retell webhook to the running ingress')
    .option('--url <url>', 'ingress base URL (default http://127.0.0.1:$PORT)')
    .option('--event <event>', 'call_started | call_ended | call_analyzed | any other', 'call_ended')
    .option('--call-id <id>', 'Retell call id (default: random)')
    .option('--to <e164>', 'dialled business number', DEMO_TO)
    .option('--from <e164>', 'caller number', DEMO_FROM)
    .option('--var <key=value>', 'collected variable (repeatable)', collect, {})
    .option('--key <apiKey>', 'sign with this key instead of RETELL_API_KEY')
    .action((o: { url?: string; event: string; callId?: string; to: string; from: string; var: Record<string, string>; key?: string }) =>
      run(async (ctx, json) => {
        const callId = o.callId ?? `call_test_${randomBytes(6).toString('hex')}`;
        const r = await send(ingressUrl(ctx.config, o.url), o.key ?? ctx.config.RETELL_API_KEY, buildCall({ callId, to: o.to, from: o.from, vars: o.var }, o.event));
        print(json, { callId, event: o.event, ...r }, () => `${o.event} for ${callId} → ${r.status} ${JSON.stringify(r.body)}`);
        if (r.status >= 300) process.exitCode = 1;
      }),
    );
}
