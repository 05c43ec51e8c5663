/**
 * What operators chart and alert on exists: every metric name in deploy/prometheus/alerts.yml
 * and in every panel of deploy/grafana/callbook.json is checked against a real scrape of a web
 * process with workers that have booked a call. `SNAPSHOT_DASHBOARD=1` also renders the series
 * each panel reads as HTML and screenshots it with Chromium into docs/dashboard-metrics.png
 * (Grafana itself is not installable on the build machine).
 */
import { readFileSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { listen, type RunningServer } from '../apps/ingress/server';
import { calls } from '../drizzle/schema';
import { startWorkers, type RunningWorkers } from '../workers';
import { startSimTestEnv, stopSimTestEnv, type SimTestEnv } from './helpers/calcom';
import { SCRAPE_HEADERS } from './helpers/env';
import { callId, retellEvent, signed } from './helpers/fixtures';
import { metricNames } from './helpers/prometheus';

let t: SimTestEnv;
let server: RunningServer;
let workers: RunningWorkers;
let scrape = '';

beforeAll(async () => {
  t = await startSimTestEnv();
  server = await listen(t.env.ctx, 0, '127.0.0.1');
  workers = startWorkers(t.env.ctx, ['webhooks', 'bookings', 'sync', 'notifications', 'default']);
  await workers.ready;
  const id = callId();
  const day = new Date(Date.now() + 7 * 86400_000);
  while ([0, 6].includes(day.getUTCDay())) day.setUTCDate(day.getUTCDate() + 1);
  const analysis = { booking_confirmed: 'ja', appointment_datetime: `${day.toISOString().slice(0, 10)}T10:00`, service: 'Haarschnitt' };
  const body = JSON.stringify(retellEvent('call_analyzed', { callId: id, vars: analysis, analysis }));
  expect((await fetch(`http://127.0.0.1:${server.port}/webhooks/retell`, { method: 'POST', body, headers: await signed(body) })).status).toBe(202);
  for (let i = 0; i < 200; i++) {
    const [row] = await t.env.ctx.database.db.select().from(calls).where(eq(calls.retellCallId, id));
    if (row?.appointmentId) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  scrape = await (await fetch(`http://127.0.0.1:${server.port}/api/metrics`, { headers: SCRAPE_HEADERS })).text();
});
afterAll(async () => {
  await workers?.close();
  await server?.close();
  await stopSimTestEnv(t);
});

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'le', 'inf', 'nan']);

/** Metric names an expression reads: identifiers outside label matchers, groupings, ranges and strings that are not function calls. */
export function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?/g)].filter((m) => !m[2] && !PROMQL_WORDS.has(m[1]!.toLowerCase()) && !/^\d/.test(m[1]!)).map((m) => m[1]!);
}

/** A name exists when the scrape declares it, or it is a histogram's _bucket/_sum/_count; `up` is Prometheus' own. */
function exists(name: string, declared: Set<string>): boolean {
  if (name === 'up' || declared.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && declared.has(base) && new RegExp(`^# TYPE ${base} histogram$`, 'm').test(scrape);
}

function alertExprs(): Array<{ what: string; expr: string }> {
  const rules = parse(readFileSync('deploy/prometheus/alerts.yml', 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  return rules.groups.flatMap((g) => g.rules.map((r) => ({ what: `alert ${r.alert}`, expr: r.expr })));
}

interface Panel {
  title: string;
  targets: Array<{ expr: string }>;
}
const dashboard = JSON.parse(readFileSync('deploy/grafana/callbook.json', 'utf8')) as { panels: Panel[] };

it('the expression parser finds metric names and nothing else', () => {
  expect(metricsIn('histogram_quantile(0.95, sum by (le, queue) (rate(callbook_job_duration_seconds_bucket{queue="x"}[5m])))')).toEqual(['callbook_job_duration_seconds_bucket']);
  expect(metricsIn('absent(a_total{q="b"}) or absent(c_total)')).toEqual(['a_total', 'c_total']);
});

it('every metric an alert or a dashboard panel reads exists in a real scrape', () => {
  const declared = metricNames(scrape);
  const exprs = [...alertExprs(), ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ what: `panel "${p.title}"`, expr: t.expr })))];
  expect(exprs.length).toBeGreaterThan(20);
  for (const { what, expr } of exprs) {
    const names = metricsIn(expr);
    expect(names.length, `${what}: ${expr}`).toBeGreaterThan(0);
    for (const n of names) expect(exists(n, declared), `${what} reads ${n}, which /api/metrics does not serve`).toBe(true);
  }
  // The per-queue "no worker" rule covers every queue.
  const noWorker = alertExprs().find((a) => a.what === 'alert CallbookNoWorker')!.expr;
  for (const q of ['webhooks', 'bookings', 'sync', 'notifications', 'default']) expect(noWorker).toContain(`queue="${q}"`);
});

it.runIf(process.env.SNAPSHOT_DASHBOARD === '1')('renders the series each panel reads and screenshots them (docs/dashboard-metrics.png)', async () => {
  const lines = scrape.split('\n').filter((l) => l && !l.startsWith('#'));
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const cards = dashboard.panels.map((p) => {
    const names = new Set(p.targets.flatMap((t) => metricsIn(t.expr)));
    const rows = lines.filter((l) => names.has(l.slice(0, l.search(/[{ ]/)))).filter((l) => !/_bucket\{/.test(l) || /le="(0\.5|1|\+Inf)"/.test(l)).slice(0, 8);
    return `<section><h2>${esc(p.title)}</h2><code>${esc(p.targets[0]!.expr)}</code><pre>${rows.map(esc).join('\n') || '(no samples yet)'}</pre></section>`;
  });
  const html = `<!doctype html><meta charset="utf-8"><style>body{font:13px system-ui;background:#111217;color:#ccccdc;margin:16px}h1{font-size:18px}main{display:grid;grid-template-columns:1fr 1fr;gap:12px}section{background:#181b1f;border:1px solid #2c3235;border-radius:4px;padding:8px 10px;overflow:hidden}h2{font-size:13px;margin:0 0 4px}code{color:#8ab8ff;font-size:11px}pre{font-size:10.5px;white-space:pre-wrap;word-break:break-all;margin:6px 0 0;color:#9fd39f}</style><h1>callbook — the series behind each panel of deploy/grafana/callbook.json (one real scrape of /api/metrics after one booked call)</h1><main>${cards.join('')}</main>`;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.setContent(html);
    await page.screenshot({ path: 'docs/dashboard-metrics.png', fullPage: true });
  } finally {
    await browser.close();
  }
}, 60_000);
