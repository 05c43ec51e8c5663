/**
 * The operator console (/console) in a real browser (Debian's Chromium through playwright-core)
 * against the whole stack in this process: the ingress over HTTP, the webhooks, bookings and
 * notifications workers, MariaDB, Redis and the Cal.com simulator. Calls are the demo call's
 * signed Retell webhooks (apps/cli demo-call's payloads). Every page is checked for requests
 * leaving the ingress and for Content-Security-Policy violations.
 *
 * Saves test-artifacts/console-*.png; docs/console-overview.png and docs/console-call.png (the
 * README's) are written when missing or with UPDATE_DOCS_SCREENSHOT=1.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { and, eq } from 'drizzle-orm';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import Retell from 'retell-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCall } from '../../apps/cli/commands/demo-call';
import { buildConsole } from '../../apps/console/build';
import { CONSOLE_CSP } from '../../apps/ingress/routes/console';
import { listen, type RunningServer } from '../../apps/ingress/server';
import { appointments, auditLog, calls } from '../../drizzle/schema';
import { createToken } from '../../lib/auth/tokens';
import { lookupPhone } from '../../lib/calls/resolve-phone';
import { closeEventHubs, sharedEventHub } from '../../lib/events/hub';
import type { LiveEventMessage } from '../../lib/events/hub';
import { startWorkers, type RunningWorkers } from '../../workers';
import { berlinWeekday, slotSequence } from '../helpers/bookings';
import { resetCalcom, SALON_KEY, startSimTestEnv, stopSimTestEnv, type SeededSim } from '../helpers/calcom';
import type { TestEnv } from '../helpers/env';
import { CLINIC_NUMBER, SALON_NUMBER, twoCompanies } from '../helpers/fixtures';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const NORD_NUMBER = '+4930111222';

let env: TestEnv;
let sim: SeededSim;
let server: RunningServer;
let workers: RunningWorkers;
let browser: Browser;
let base: string;
const tokens = { nord: '', salon: '', salonId: 0 };
const ids = { salon: 0, clinic: 0 };

beforeAll(async () => {
  if (!hasChromium) return;
  await buildConsole();
  const tenants = twoCompanies();
  const salon = tenants.companies[0]!;
  salon.branches.push({ ...salon.branches[0]!, slug: 'nord', name: 'Salon Anna Nord', phoneNumbers: [NORD_NUMBER] });
  ({ sim, env } = await startSimTestEnv({ CALCOM_TIMEOUT_MS: '1500' }, tenants));
  const db = env.ctx.database.db;
  const nord = (await lookupPhone(db, NORD_NUMBER))!;
  ids.salon = nord.companyId;
  ids.clinic = (await lookupPhone(db, CLINIC_NUMBER))!.companyId;
  tokens.nord = (await createToken(db, { companyId: nord.companyId, branchId: nord.branchId, name: 'nord tablet' })).token;
  const salonToken = await createToken(db, { companyId: nord.companyId, name: 'salon office' });
  tokens.salon = salonToken.token;
  tokens.salonId = salonToken.id;
  server = await listen(env.ctx, 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.port}`;
  workers = startWorkers(env.ctx, ['webhooks', 'bookings', 'notifications']);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 90_000);

afterAll(async () => {
  if (!hasChromium) return;
  await browser?.close();
  await workers?.close();
  await server?.close();
  await closeEventHubs();
  await stopSimTestEnv({ env, sim });
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const nextSlot = slotSequence();
let slot = 0;
/** Plays the demo call's three signed webhooks; the caller asks for a distinct weekday slot. */
async function demoCall(to: string, o: { service?: string; confirmed?: boolean } = {}): Promise<string> {
  const callId = `call_console_${Date.now().toString(36)}_${slot}`;
  // Distinct weekday slots (test/helpers/bookings): counting days ahead and then skipping the
  // weekend gave two calls one slot when the days ahead ended on a Saturday and a Sunday, and the
  // second call's booking failed.
  const when = nextSlot().toFormat("yyyy-MM-dd'T'HH:mm");
  slot++;
  const vars = { customer_name: 'Anna Beispiel', service: o.service ?? 'Haarschnitt', appointment_datetime: when, booking_confirmed: o.confirmed === false ? 'nein' : 'ja' };
  for (const event of ['call_started', 'call_ended', 'call_analyzed']) {
    const body = JSON.stringify(buildCall({ callId, to, from: '+4917612345678', vars }, event));
    const res = await fetch(`${base}/webhooks/retell`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-retell-signature': await Retell.sign(body, env.config.RETELL_API_KEY) } });
    expect(res.status, event).toBe(202);
  }
  return callId;
}

async function callRow(callId: string) {
  return waitFor(`call ${callId}`, async () => (await env.ctx.database.db.select().from(calls).where(eq(calls.retellCallId, callId)))[0]);
}

async function settled(callId: string) {
  return waitFor(`call ${callId} to settle`, async () => {
    const c = await callRow(callId);
    if (c.bookingDecision === 'no_booking') return { call: c, appointment: undefined };
    const [a] = await env.ctx.database.db.select().from(appointments).where(eq(appointments.callId, c.id));
    return a && (a.status === 'booked' || a.status === 'failed') ? { call: c, appointment: a } : undefined;
  });
}

interface Watched {
  page: Page;
  context: BrowserContext;
  /** Requests to anywhere but the ingress, and CSP violations reported by the page. */
  problems: string[];
}

async function open(o: { locale?: string; width?: number; height?: number } = {}): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: o.width ?? 1440, height: o.height ?? 1000 }, locale: o.locale ?? 'en-GB', timezoneId: 'Europe/Berlin' });
  const problems: string[] = [];
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => {
    problems.push(`external request: ${route.request().url()}`);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`csp: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return { page, context, problems };
}

async function signIn(page: Page, token: string): Promise<void> {
  const res = await page.goto(`${base}/console`);
  expect(res?.status()).toBe(200);
  await page.getByLabel(/^Token$/).fill(token);
  await page.getByRole('button', { name: /^(Sign in|Anmelden)$/ }).click();
  await page.locator('#today [data-count="calls"]').waitFor();
}

const count = async (page: Page, panel: 'today' | 'range', what: string) => Number(await page.locator(`#${panel} [data-count="${what}"]`).textContent());

function screenshot(name: string, docs?: string) {
  mkdirSync('test-artifacts', { recursive: true });
  const path = `test-artifacts/${name}`;
  return {
    path,
    toDocs: () => {
      if (docs && (!existsSync(docs) || process.env.UPDATE_DOCS_SCREENSHOT === '1')) copyFileSync(path, docs);
    },
  };
}

const title = (t: string) => (hasChromium ? t : `${t} [SKIPPED: no ${CHROMIUM}]`);

describe('the operator console in Chromium', () => {
  if (!hasChromium) console.warn(`test/browser: no Chromium at ${CHROMIUM} (apt-get install chromium); the console tests are skipped`);

  it.skipIf(!hasChromium)(title('is served with a strict CSP, and a wrong token is refused'), { timeout: 60_000 }, async () => {
    const { page, context, problems } = await open();
    const res = await page.goto(`${base}/console`);
    expect(res?.headers()['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    await page.getByLabel(/^Token$/).fill('cbk_this-is-not-a-token');
    const [refused] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/mcp')), page.getByRole('button', { name: 'Sign in' }).click()]);
    expect(refused.status()).toBe(401);
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('This token was refused.');
    expect(await page.locator('#today').count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it.skipIf(!hasChromium)(title('a branch token sees only its branch'), { timeout: 90_000 }, async () => {
    const nordCall = await demoCall(NORD_NUMBER);
    const mitteCall = await demoCall(SALON_NUMBER, { confirmed: false });
    const clinicCall = await demoCall(CLINIC_NUMBER, { service: 'Check-up' });
    await Promise.all([settled(nordCall), settled(mitteCall), settled(clinicCall)]);

    const { page, context, problems } = await open();
    await signIn(page, tokens.nord);
    await expect.poll(() => page.locator('.who').textContent()).toBe('Signed in as Salon Anna · Salon Anna Nord');
    expect(await page.locator('table.branches tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-branch')))).toEqual(['salon-anna/nord']);
    await page.locator(`tr[data-call="${nordCall}"]`).waitFor();
    expect(await page.locator('table.calls tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-call')))).toEqual([nordCall]);
    expect(await count(page, 'today', 'calls')).toBe(1);
    expect(await count(page, 'today', 'booked')).toBe(1);
    // No filter offers what the token cannot see, and no other branch's or company's name appears.
    expect(await page.locator('#f-company, #f-branch').count()).toBe(0);
    const text = await page.locator('body').innerText();
    expect(text).not.toMatch(/Mitte|Clinic|Hamburg|mitte|clinic/);
    // Its live feed stays silent about the other branch.
    await expect.poll(() => page.locator('.live .badge').textContent()).toBe('live');
    await settled(await demoCall(SALON_NUMBER));
    await new Promise((r) => setTimeout(r, 700));
    expect(await page.locator('.feed li').count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it.skipIf(!hasChromium)(title("a demo call's booking appears in the live feed within a second, and in the counts"), { timeout: 90_000 }, async () => {
    const { page, context, problems } = await open();
    await signIn(page, tokens.salon);
    await expect.poll(() => page.locator('.live .badge').textContent(), { timeout: 10_000 }).toBe('live');
    const bookedBefore = await count(page, 'today', 'booked');
    const callsBefore = await count(page, 'today', 'calls');

    // When the booking event is published (heard by the test's own subscriber) and when the page shows it.
    const published = new Promise<number>((resolve) => {
      void sharedEventHub({ redisUrl: env.config.REDIS_URL, ns: env.ctx.ns }).subscribe(ids.salon, {
        onEvent: (e: LiveEventMessage) => {
          if (e.type === 'booking.booked') resolve(Date.now());
        },
      });
    });
    // Checked every animation frame (a locator's waitFor polls only every 500 ms after a while).
    const shown = page
      .waitForFunction(() => document.querySelector('.feed li[data-type="booking.booked"]') !== null, undefined, { polling: 'raf', timeout: 30_000 })
      .then(() => Date.now());
    const callId = await demoCall(SALON_NUMBER);
    const [at, seen] = await Promise.all([published, shown]);
    console.log(`console live feed: booking.booked shown ${seen - at} ms after it was published`);
    expect(seen - at).toBeLessThan(1000);
    const { appointment } = await settled(callId);
    expect(appointment?.status).toBe('booked');
    // The call's own events are in the feed, and the counts follow.
    await page.locator('.feed li[data-type="call.updated"]').first().waitFor();
    await expect.poll(() => count(page, 'today', 'booked'), { timeout: 5_000 }).toBe(bookedBefore + 1);
    expect(await count(page, 'today', 'calls')).toBe(callsBefore + 1);
    await page.locator(`tr[data-call="${callId}"]`).waitFor();
    const bars = await page.locator('svg.hours').getAttribute('data-total');
    expect(Number(bars)).toBeGreaterThanOrEqual(bookedBefore + 1);
    expect(problems).toEqual([]);
    await context.close();
  });

  it.skipIf(!hasChromium)(title('a failed booking shows its reason; Retry (by keyboard) books it exactly once'), { timeout: 120_000 }, async () => {
    sim.sim.setFaults({ errorRatio: 1 }, SALON_KEY);
    const callId = await demoCall(SALON_NUMBER);
    const { appointment } = await settled(callId);
    expect(appointment?.status).toBe('failed');
    const key = appointment!.idempotencyKey;
    const jobId = `booking-${key}`;
    const reason = appointment!.failureReason!;
    expect(reason).toMatch(/^gave up after 3 attempts: Cal\.com .* 500/);

    // The admin's view links the job to Bull Board.
    const admin = await open();
    await signIn(admin.page, env.config.ADMIN_TOKEN);
    const adminJob = admin.page.locator(`li.job[data-job="${jobId}"]`);
    await adminJob.waitFor();
    expect(await adminJob.getByRole('link', { name: 'Job in Bull Board' }).getAttribute('href')).toBe(`/admin/queues/queue/bookings/${jobId}`);
    await admin.context.close();

    const { page, context, problems } = await open();
    await signIn(page, tokens.salon);
    const job = page.locator(`li.job[data-job="${jobId}"]`);
    await job.waitFor();
    expect(await job.locator('.reason-text').innerText()).toBe(reason);
    expect(await job.getByRole('link', { name: 'Job in Bull Board' }).count()).toBe(0);
    const failedBefore = await count(page, 'today', 'failed');
    expect(failedBefore).toBeGreaterThanOrEqual(1);

    // Cal.com is back (and its breaker, opened by the failures, closed again).
    await resetCalcom({ env, sim });
    const retry = job.getByRole('button', { name: 'Retry' });
    await retry.focus();
    const [retried] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/mcp') && (r.request().postData() ?? '').includes('"failed_bookings_retry"')),
      page.keyboard.press('Enter'),
    ]);
    expect(((await retried.json()) as { result: { structuredContent: unknown } }).result.structuredContent).toEqual({ retried: [jobId] });
    const booked = await waitFor('the retried booking', async () => {
      const [row] = await env.ctx.database.db.select().from(appointments).where(eq(appointments.idempotencyKey, key));
      return row?.status === 'booked' ? row : undefined;
    });
    expect(sim.sim.bookings().filter((b) => b.metadata.callbook_key === key)).toHaveLength(1);
    expect(booked.calcomBookingUid).toBe(sim.sim.bookings().find((b) => b.metadata.callbook_key === key)!.uid);
    // The list and the counts follow: the job is gone, the call counts as booked.
    await expect.poll(() => page.locator(`li.job[data-job="${jobId}"]`).count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => count(page, 'today', 'failed'), { timeout: 10_000 }).toBe(failedBefore - 1);
    // A second retry cannot book again: the job is no longer failed.
    const again = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.salon}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'failed_bookings_retry', arguments: { jobId } } }),
    });
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(/is not failed \(it is completed\)/);
    expect(sim.sim.bookings().filter((b) => b.metadata.callbook_key === key)).toHaveLength(1);
    expect(problems).toEqual([]);
    await context.close();
  });

  it.skipIf(!hasChromium)(title("a call's detail shows what was said, the decision, the appointment and the notifications, and is audited"), { timeout: 90_000 }, async () => {
    const callId = await demoCall(SALON_NUMBER);
    expect((await settled(callId)).appointment?.status).toBe('booked');
    const { page, context, problems } = await open();
    await signIn(page, tokens.salon);
    await page.locator(`tr[data-call="${callId}"] a`).click();
    await page.getByRole('heading', { name: new RegExp(`^Call ${callId}$`) }).waitFor();
    expect(page.url()).toBe(`${base}/console#/call/${callId}`);
    await expect.poll(() => page.locator('.decision').textContent()).toBe('book');
    expect(await page.locator('.summary').textContent()).toBe('The caller booked an appointment.');
    expect(await page.locator('.transcript').textContent()).toContain('Mein Name ist Anna Beispiel');
    expect(await page.locator('.appt').innerText()).toContain('booked');
    expect(await page.locator('.appt').innerText()).toContain('Haircut');
    // The confirmation is sent by the notifications worker; reload until it is there.
    await waitFor('the notification row', async () => {
      await page.reload();
      await page.locator('#d-notes').waitFor();
      return (await page.locator('#d-notes + div table tbody tr').count()) > 0 && true;
    });
    expect(await page.locator('#d-notes + div table tbody tr').first().innerText()).toMatch(/Confirmation to the customer\s+sms\s+\+49\*+678\s+sent/);
    const shot = screenshot('console-call.png', 'docs/console-call.png');
    await page.screenshot({ path: shot.path, fullPage: true });
    shot.toDocs();
    const reads = await env.ctx.database.db.select().from(auditLog).where(and(eq(auditLog.action, 'calls.get'), eq(auditLog.target, `call:${callId}`)));
    expect(reads.length).toBeGreaterThanOrEqual(1);
    expect(reads.every((r) => r.actor === `mcp:token:${tokens.salonId}` && r.companyId === ids.salon)).toBe(true);
    // Back to the overview by keyboard.
    await page.getByRole('link', { name: /Back to the overview/ }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#today').waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it.skipIf(!hasChromium)(title('an admin sees every company; free slots; the overview screenshot'), { timeout: 90_000 }, async () => {
    await Promise.all([settled(await demoCall(NORD_NUMBER)), settled(await demoCall(SALON_NUMBER, { confirmed: false })), settled(await demoCall(CLINIC_NUMBER, { service: 'Check-up' }))]);
    const { page, context, problems } = await open();
    await signIn(page, env.config.ADMIN_TOKEN);
    await expect.poll(() => page.locator('.who').textContent()).toBe('Signed in as Admin');
    await expect
      .poll(() => page.locator('table.branches tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-branch'))))
      .toEqual(['clinic-nord/hh', 'salon-anna/mitte', 'salon-anna/nord']);
    expect(await page.locator('#f-company option').allTextContents()).toEqual(['All companies', 'Clinic Nord', 'Salon Anna']);
    const companies = await page.locator('table.calls tbody tr td[data-branch]').evaluateAll((tds) => tds.map((td) => td.getAttribute('data-branch')));
    expect(new Set(companies)).toEqual(new Set(['hh', 'mitte', 'nord']));
    await page.locator('.live').getByText('Choose a company to follow its live events.').waitFor();

    // One company: live events flow, and free slots can be looked up.
    await page.getByLabel('Company', { exact: true }).selectOption('salon-anna');
    await expect.poll(() => page.locator('.live .badge').textContent(), { timeout: 10_000 }).toBe('live');
    await settled(await demoCall(SALON_NUMBER));
    await page.locator('.feed li[data-type="booking.booked"]').first().waitFor({ timeout: 10_000 });
    const day = berlinWeekday(4, 0).toISODate()!;
    await page.locator('#s-branch').selectOption('salon-anna/mitte');
    await page.getByLabel('Service', { exact: true }).selectOption('haircut');
    await page.getByLabel('Day', { exact: true }).fill(day);
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.locator('.slot-list li').first().waitFor();
    expect(await page.locator('.slot-list li').allTextContents()).toContain('09:30');

    await page.getByLabel('Company', { exact: true }).selectOption('');
    await page.locator('.live').getByText('Choose a company').waitFor();
    await page.getByLabel('Company', { exact: true }).selectOption('salon-anna');
    await page.locator('.feed li').first().waitFor({ state: 'detached' }).catch(() => undefined);
    await settled(await demoCall(SALON_NUMBER));
    await page.locator('.feed li[data-type="booking.booked"]').first().waitFor({ timeout: 10_000 });
    await page.waitForTimeout(500);
    const shot = screenshot('console-overview.png', 'docs/console-overview.png');
    await page.screenshot({ path: shot.path, fullPage: true });
    shot.toDocs();
    expect(problems).toEqual([]);
    await context.close();
  });

  it.skipIf(!hasChromium)(title('speaks German to a German browser, switches to English, and fits a phone'), { timeout: 60_000 }, async () => {
    const { page, context, problems } = await open({ locale: 'de-DE', width: 390, height: 844 });
    await page.goto(`${base}/console`);
    await page.getByRole('heading', { name: 'Anmelden' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('de');
    await page.getByLabel('Token').fill(tokens.salon);
    await page.keyboard.press('Enter');
    await page.locator('#today [data-count="calls"]').waitFor();
    await page.getByRole('heading', { name: /^Heute/ }).waitFor();
    await page.getByRole('heading', { name: 'Fehlgeschlagene Buchungen' }).waitFor();
    // No sideways scrolling at phone width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const shot = screenshot('console-phone-de.png');
    await page.screenshot({ path: shot.path, fullPage: true });

    await page.getByRole('button', { name: 'Switch to English' }).click();
    await page.getByRole('heading', { name: 'Failed bookings' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    // The choice is remembered.
    await page.reload();
    await page.getByRole('heading', { name: 'Failed bookings' }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});
