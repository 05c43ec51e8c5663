/**
 * Bull Board in a real browser (Debian's Chromium through playwright-core) against the whole
 * stack in this process: ingress over HTTP, the bookings worker, MariaDB, Redis and the Cal.com
 * simulator. A booking fails for good on Cal.com 5xx; an operator is refused with a wrong
 * token, logs in, finds the job and its reason in the bookings queue, clicks Retry once the
 * fault is gone, and the booking lands exactly once. Saves test-artifacts/bull-board.png (the
 * failed job, its reason, the Retry tooltip) and bull-board-after-retry.png; docs/bull-board.png
 * (the README's) is written when missing or with UPDATE_DOCS_SCREENSHOT=1.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '../../apps/ingress/server';
import { appointments } from '../../drizzle/schema';
import { jobIds } from '../../lib/queues';
import { startWorkers, type RunningWorkers } from '../../workers';
import { berlinWeekday, bookingJobForNewCall } from '../helpers/bookings';
import { SALON_KEY, startSimTestEnv, stopSimTestEnv, type SeededSim } from '../helpers/calcom';
import type { TestEnv } from '../helpers/env';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const SCREENSHOT = 'test-artifacts/bull-board.png';
const DOCS_SCREENSHOT = 'docs/bull-board.png';

let env: TestEnv;
let sim: SeededSim;
let server: RunningServer;
let workers: RunningWorkers;
let browser: Browser;

beforeAll(async () => {
  if (!hasChromium) return;
  ({ sim, env } = await startSimTestEnv({ CALCOM_TIMEOUT_MS: '1500' }));
  server = await listen(env.ctx, 0, '127.0.0.1');
  workers = startWorkers(env.ctx, ['bookings']);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  if (!hasChromium) return;
  await browser?.close();
  await workers?.close();
  await server?.close();
  await stopSimTestEnv({ env, sim });
});

/** A booking request for Salon Anna, haircut, next weekday 10:00 Berlin time. */
function bookingJob() {
  return bookingJobForNewCall(env.ctx.database.db, berlinWeekday(2, 10).toUTC().toISO()!);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
  // The board links a web font; this machine is offline, and nothing outside the ingress is needed.
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
  return context.newPage();
}

const simBookingsFor = (key: string) => sim.sim.bookings().filter((b) => b.metadata.callbook_key === key);
const appointmentFor = async (key: string) => (await env.ctx.database.db.select().from(appointments).where(eq(appointments.idempotencyKey, key)))[0];

const title = 'an operator logs in, finds the failed booking and its reason, retries it, and it books once';
describe('Bull Board in Chromium', () => {
  if (!hasChromium) console.warn(`test/browser: no Chromium at ${CHROMIUM} (apt-get install chromium); the browser test is skipped`);

  it.skipIf(!hasChromium)(hasChromium ? title : `${title} [SKIPPED: no ${CHROMIUM}]`, { timeout: 90_000 }, async () => {
    const base = `http://127.0.0.1:${server.port}`;

    // A booking that fails for good: Cal.com answers 500 to everything for the salon's key.
    sim.sim.setFaults({ errorRatio: 1 }, SALON_KEY);
    const job = await bookingJob();
    const id = jobIds.booking(job.idempotencyKey);
    await env.ctx.queues.bookings.add('book', job, { jobId: id, attempts: 2, backoff: { type: 'fixed', delay: 100 } });
    // State first, then the job: a job read before its last attempt holds the first attempt's reason.
    const failed = await waitFor('the booking job to fail', async () =>
      (await env.ctx.queues.bookings.getJobState(id)) === 'failed' ? env.ctx.queues.bookings.getJob(id) : undefined,
    );
    const reason = 'gave up after 2 attempts: Cal.com GET /event-types → 500: Internal server error';
    expect(failed.failedReason).toBe(reason);
    expect(await appointmentFor(job.idempotencyKey)).toMatchObject({ status: 'failed', failureReason: reason });

    const page = await newPage();

    // Logged out: the board sends us to the login, and its API answers nothing.
    await page.goto(`${base}/admin/queues`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    expect((await page.request.get(`${base}/admin/queues/api/queues`)).status()).toBe(401);

    // A wrong token is refused, with the form again and no cookie.
    await page.fill('input[name=token]', 'not-the-admin-token-at-all');
    const [refused] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/admin/login') && r.request().method() === 'POST'), page.click('button[type=submit]')]);
    expect(refused.status()).toBe(401);
    await expect.poll(() => page.locator('#login-error').textContent(), { timeout: 15_000 }).toBe('Wrong token.');
    expect(await page.context().cookies()).toEqual([]);

    // The right token: a session cookie (HttpOnly, SameSite=Strict) and the board.
    await page.fill('input[name=token]', env.config.ADMIN_TOKEN);
    await Promise.all([page.waitForURL(`${base}/admin/queues`), page.click('button[type=submit]')]);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'callbook_admin', httpOnly: true, sameSite: 'Strict', path: '/admin' });
    const nav = page.locator('#bull-board-sidebar nav');
    for (const q of ['webhooks', 'bookings', 'sync', 'notifications', 'default']) await expect.poll(() => nav.locator(`a[title="${q}"]`).count(), { timeout: 15_000 }).toBe(1);

    // The bookings queue, its Failed tab, the job and its reason.
    await nav.locator('a[title="bookings"]').click();
    await page.waitForURL(/\/admin\/queues\/queue\/bookings/);
    await page.getByRole('link', { name: /^failed/i }).click();
    await page.waitForURL(/status=failed/);
    const card = page.locator('[class*="card"]', { hasText: id }).first();
    await card.getByText(reason).first().waitFor();

    // The Retry button is the job's first icon action; its tooltip says so. Hover it for the screenshot.
    const retry = card.locator('[class*="jobActions"] button').first();
    await retry.hover();
    await page.locator('[data-base-ui-portal] [role="presentation"]', { hasText: /^Retry$/ }).waitFor();
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    // The README's copy is refreshed on request only, so a test run leaves the work tree clean.
    if (!existsSync(DOCS_SCREENSHOT) || process.env.UPDATE_DOCS_SCREENSHOT === '1') copyFileSync(SCREENSHOT, DOCS_SCREENSHOT);

    // Cal.com is back; retry from the board (it asks for confirmation).
    sim.sim.clearFaults();
    await retry.click();
    const dialog = page.getByRole('alertdialog');
    await dialog.getByText('Are you sure that you want to retry this job?').waitFor();
    const [retried] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/api/queues/bookings/${id}/retry`) && r.request().method() === 'PUT'),
      dialog.getByRole('button', { name: 'Confirm' }).click(),
    ]);
    expect(retried.status()).toBe(204);

    // The booking lands exactly once, and the board shows the job completed.
    const appt = await waitFor('the appointment to be booked', async () => {
      const row = await appointmentFor(job.idempotencyKey);
      return row?.status === 'booked' ? row : undefined;
    });
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(1);
    expect(appt.calcomBookingUid).toBe(simBookingsFor(job.idempotencyKey)[0]!.uid);
    // The row commits a moment before the job finishes (confirmation queued, live event, then BullMQ).
    await waitFor('the job to complete', async () => ((await (await env.ctx.queues.bookings.getJob(id))!.getState()) === 'completed' ? true : undefined));
    await page.getByRole('link', { name: /^completed/i }).click();
    await page.locator('[class*="card"]', { hasText: id }).first().waitFor();
    await page.screenshot({ path: 'test-artifacts/bull-board-after-retry.png' });
  });
});
