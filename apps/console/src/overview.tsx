/**
 * The overview: filters (company, branch, days), the counts of today and of the range, the top
 * no-booking reasons, bookings per hour, the per-branch table, failed bookings with Retry,
 * breakers and queues, the live feed, the calls (paged) and a free-slot lookup. Everything comes
 * from MCP tools; live events refresh the counts and lists (debounced).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useI18n, type Session } from './app';
import { HourChart } from './chart';
import { browserZone, dateTime, duration, isoDay, share, time } from './format';
import { followEvents, type LiveEvent, type LiveState } from './live';
import { RpcError, ToolFailure, Unauthorized } from './mcp';
import type { Breaker, CallsPage, Counts, FailedJob, Outcome, QueueRow, Slots, Stats } from './types';

interface Filters {
  company: string;
  branch: string;
  from: string;
  to: string;
  outcome: '' | Outcome;
}

/** Kept across a visit to a call's detail. */
let remembered: Filters | null = null;

const OUTCOMES: Outcome[] = ['booked', 'no_booking', 'failed', 'cancelled', 'open'];
const PAGE = 10;

function message(err: unknown): string {
  if (err instanceof RpcError || err instanceof ToolFailure) return err.message;
  return err instanceof Error ? err.message : String(err);
}

export function Overview({ session, onUnauthorized }: { session: Session; onUnauthorized: () => void }) {
  const { t, lang } = useI18n();
  const { client, tenants } = session;
  const isAdmin = tenants.principal.kind === 'admin';
  const isBranch = tenants.principal.kind === 'branch';
  const onlyCompany = tenants.companies.length === 1 ? tenants.companies[0]!.slug : '';
  const [f, setF] = useState<Filters>(() => remembered ?? { company: onlyCompany, branch: '', from: isoDay(), to: isoDay(), outcome: '' });
  useEffect(() => void (remembered = f), [f]);
  const set = (patch: Partial<Filters>) => setF((old) => ({ ...old, ...patch }));

  const company = tenants.companies.find((c) => c.slug === f.company);
  const branchById = useMemo(() => new Map(tenants.companies.flatMap((c) => c.branches.map((b) => [b.id, { ...b, company: c.name }] as const))), [tenants]);
  const scopeArgs = useMemo(() => ({ ...(f.company && !(onlyCompany && !isAdmin) ? { company: f.company } : {}), ...(f.branch && !isBranch ? { branch: f.branch } : {}) }), [f.company, f.branch, onlyCompany, isAdmin, isBranch]);

  const [stats, setStats] = useState<Stats | null>(null);
  const [failed, setFailed] = useState<FailedJob[] | null>(null);
  const [breakers, setBreakers] = useState<Breaker[]>([]);
  const [queues, setQueues] = useState<QueueRow[]>([]);
  const [page, setPage] = useState<CallsPage | null>(null);
  const [cursors, setCursors] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [updatedAt, setUpdatedAt] = useState<string | null>(null);

  const guard = useCallback(
    async (what: () => Promise<void>) => {
      try {
        await what();
        setError(null);
      } catch (err) {
        if (err instanceof Unauthorized) return onUnauthorized();
        setError(message(err));
      }
    },
    [onUnauthorized],
  );

  const days = { from: f.from, to: f.to, timeZone: browserZone() };
  const loadStats = () => guard(async () => setStats(await client.tool<Stats>('stats_overview', { ...scopeArgs, ...days })));
  const loadFailed = () => guard(async () => setFailed((await client.tool<{ jobs: FailedJob[] }>('failed_bookings_list', { ...scopeArgs, limit: 50 })).jobs));
  const loadSystem = () =>
    guard(async () => {
      const [b, q] = await Promise.all([client.tool<{ breakers: Breaker[] }>('breaker_status'), client.tool<{ queues: QueueRow[] }>('queues_status')]);
      setBreakers(b.breakers);
      setQueues(q.queues);
    });
  const cursor = cursors.at(-1);
  const loadCalls = () => guard(async () => setPage(await client.tool<CallsPage>('calls_list', { ...scopeArgs, ...days, limit: PAGE, ...(f.outcome ? { outcome: f.outcome } : {}), ...(cursor ? { cursor } : {}) })));
  const loadAll = (withCalls = true) => {
    void Promise.all([loadStats(), loadFailed(), loadSystem(), withCalls ? loadCalls() : undefined]).then(() => setUpdatedAt(new Date().toISOString()));
  };

  useEffect(() => loadAll(false), [scopeArgs, f.from, f.to]);
  useEffect(() => void loadCalls(), [scopeArgs, f.from, f.to, f.outcome, cursor]);
  useEffect(() => setCursors([]), [scopeArgs, f.from, f.to, f.outcome]);

  // Live events: refresh what they change, at most every 300 ms.
  const [feed, setFeed] = useState<Array<LiveEvent & { key: number }>>([]);
  const [live, setLive] = useState<LiveState | 'choose'>('connecting');
  const refreshSoon = useRef<number | undefined>(undefined);
  const latest = useRef({ loadStats, loadFailed, loadCalls, loadSystem, firstPage: !cursor });
  latest.current = { loadStats, loadFailed, loadCalls, loadSystem, firstPage: !cursor };
  // Breakers, queues and failed jobs change without live events too: look again every 30 s.
  useEffect(() => {
    const timer = window.setInterval(() => void Promise.all([latest.current.loadSystem(), latest.current.loadFailed()]), 30_000);
    return () => clearInterval(timer);
  }, []);
  const liveCompany = isAdmin ? f.company : undefined;
  const branchFilter = f.branch ? company?.branches.find((b) => b.slug === f.branch)?.id : undefined;
  useEffect(() => {
    setFeed([]);
    if (isAdmin && !liveCompany) return setLive('choose');
    let n = 0;
    return followEvents({
      token: client.token,
      ...(liveCompany ? { company: liveCompany } : {}),
      onState: setLive,
      onEvent: (e) => {
        if (branchFilter !== undefined && e.branchId !== branchFilter) return;
        setFeed((old) => [{ ...e, key: ++n }, ...old].slice(0, 50));
        clearTimeout(refreshSoon.current);
        refreshSoon.current = window.setTimeout(() => {
          const l = latest.current;
          void l.loadStats();
          if (e.type.startsWith('booking.')) void Promise.all([l.loadFailed(), l.loadSystem()]);
          if (l.firstPage) void l.loadCalls();
        }, 300);
      },
    });
  }, [client, liveCompany, branchFilter, isAdmin]);

  return (
    <main id="main" class="overview">
      <h1 class="visually-hidden">{t.title}</h1>
      <FiltersBar session={session} f={f} set={set} />
      {error && (
        <p class="error" role="alert">
          {t.error} {error}
        </p>
      )}
      <p class="updated" aria-live="polite">
        {updatedAt ? `${t.updated} ${time(lang, updatedAt)}` : t.loading}{' '}
        <button type="button" class="link" onClick={() => loadAll()}>
          {t.refresh}
        </button>
      </p>
      <div class="grid">
        {stats && <CountsPanel id="today" title={`${t.today} (${stats.today})`} c={stats.totals.today} />}
        {stats && <CountsPanel id="range" title={`${t.range} (${stats.from === stats.to ? stats.from : `${stats.from} – ${stats.to}`})`} c={stats.totals.range} />}
        <section aria-labelledby="live-h" class="panel live">
          <h2 id="live-h">
            {t.live}{' '}
            {live !== 'choose' && <span class={`badge live-${live}`}>{live === 'live' ? t.liveOn : live === 'retrying' ? t.liveRetrying : live === 'refused' ? t.liveRefused : t.liveConnecting}</span>}
          </h2>
          {live === 'choose' ? (
            <p>{t.liveChooseCompany}</p>
          ) : feed.length === 0 ? (
            <p class="muted">{t.liveEmpty}</p>
          ) : (
            <ol class="feed" aria-live="polite" aria-relevant="additions">
              {feed.map((e) => (
                <FeedItem key={e.key} e={e} branch={e.branchId !== undefined ? branchById.get(e.branchId)?.name : undefined} />
              ))}
            </ol>
          )}
        </section>
        {stats && (
          <section aria-labelledby="reasons-h" class="panel">
            <h2 id="reasons-h">{t.topReasons}</h2>
            {stats.topReasons.length ? (
              <ol class="reasons">
                {stats.topReasons.map((r) => (
                  <li key={r.reason}>
                    <span>{r.reason}</span> <strong>{r.count}</strong>
                  </li>
                ))}
              </ol>
            ) : (
              <p class="muted">{t.noReasons}</p>
            )}
          </section>
        )}
        {stats && <HourChart hours={stats.bookingsPerHour} />}
        <FailedPanel session={session} jobs={failed} reload={() => Promise.all([loadFailed(), loadStats(), loadSystem()]).then(() => undefined)} />
        <SystemPanel breakers={breakers} queues={queues} />
        <SlotLookup session={session} f={f} />
      </div>
      {stats && <BranchTable stats={stats} />}
      <CallsPanel
        page={page}
        f={f}
        set={set}
        canGoNewer={cursors.length > 0}
        newer={() => setCursors((c) => c.slice(0, -1))}
        older={() => page?.nextCursor && setCursors((c) => [...c, page.nextCursor!])}
        shownBefore={cursors.length * PAGE}
        branchName={(id) => branchById.get(id)?.name}
      />
    </main>
  );
}

function FiltersBar({ session, f, set }: { session: Session; f: Filters; set: (p: Partial<Filters>) => void }) {
  const { t } = useI18n();
  const { tenants } = session;
  const isBranch = tenants.principal.kind === 'branch';
  const company = tenants.companies.find((c) => c.slug === f.company);
  const quick = (days: number) => set({ from: isoDay(days), to: isoDay() });
  return (
    <form class="filters" aria-label={t.filters} onSubmit={(e) => e.preventDefault()}>
      {tenants.companies.length > 1 && (
        <div class="field">
          <label for="f-company">{t.company}</label>
          <select id="f-company" value={f.company} onChange={(e) => set({ company: e.currentTarget.value, branch: '' })}>
            <option value="">{t.allCompanies}</option>
            {tenants.companies.map((c) => (
              <option key={c.slug} value={c.slug}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
      )}
      {!isBranch && company && company.branches.length > 1 && (
        <div class="field">
          <label for="f-branch">{t.branch}</label>
          <select id="f-branch" value={f.branch} onChange={(e) => set({ branch: e.currentTarget.value })}>
            <option value="">{t.allBranches}</option>
            {company.branches.map((b) => (
              <option key={b.slug} value={b.slug}>
                {b.name}
              </option>
            ))}
          </select>
        </div>
      )}
      <div class="field">
        <label for="f-from">{t.from}</label>
        <input id="f-from" type="date" value={f.from} max={f.to} required onChange={(e) => e.currentTarget.value && set({ from: e.currentTarget.value })} />
      </div>
      <div class="field">
        <label for="f-to">{t.to}</label>
        <input id="f-to" type="date" value={f.to} min={f.from} required onChange={(e) => e.currentTarget.value && set({ to: e.currentTarget.value })} />
      </div>
      <div class="quick" role="group" aria-label={t.range}>
        <button type="button" onClick={() => quick(0)}>
          {t.today}
        </button>
        <button type="button" onClick={() => quick(6)}>
          {t.last7}
        </button>
        <button type="button" onClick={() => quick(29)}>
          {t.last30}
        </button>
      </div>
    </form>
  );
}

function CountsPanel({ id, title, c }: { id: string; title: string; c: Counts }) {
  const { t, lang } = useI18n();
  return (
    <section aria-labelledby={`${id}-h`} class="panel counts" id={id}>
      <h2 id={`${id}-h`}>{title}</h2>
      <p class="big">
        <span data-count="calls">{c.calls}</span> {t.calls}
      </p>
      <dl>
        {OUTCOMES.map((o) => (
          <div key={o} class={`o-${o}`}>
            <dt>{t[o]}</dt>
            <dd>
              <span data-count={o}>{c[o]}</span> <span class="share">({share(lang, c[o], c.calls)})</span>
            </dd>
          </div>
        ))}
      </dl>
      <div class="bar" aria-hidden="true">
        {OUTCOMES.filter((o) => c[o]).map((o) => (
          <span key={o} class={`seg o-${o}`} style={{ flexGrow: c[o] }} />
        ))}
      </div>
    </section>
  );
}

function FeedItem({ e, branch }: { e: LiveEvent; branch: string | undefined }) {
  const { t, lang } = useI18n();
  let text: string;
  if (e.type === 'call.updated') text = t.ev_call(t.callStatus[e.status ?? ''] ?? e.status ?? '', e.decision);
  else if (e.type === 'booking.booked') text = t.ev_booked(dateTime(lang, e.start));
  else if (e.type === 'booking.failed') text = t.ev_failed(e.reason ?? '');
  else if (e.type === 'booking.cancelled') text = t.ev_cancelled;
  else if (e.type === 'booking.rescheduled') text = t.ev_rescheduled(dateTime(lang, e.start));
  else text = e.type;
  return (
    <li class={`ev ev-${e.type.replace('.', '-')}`} data-type={e.type}>
      <time dateTime={e.at}>{time(lang, e.at ?? new Date().toISOString())}</time> {branch && <span class="muted">{branch}</span>}{' '}
      {e.callId ? <a href={`#/call/${encodeURIComponent(e.callId)}`}>{text}</a> : <span>{text}</span>}
      {e.appointmentId ? <span class="muted"> #{e.appointmentId}</span> : null}
    </li>
  );
}

function FailedPanel({ session, jobs, reload }: { session: Session; jobs: FailedJob[] | null; reload: () => Promise<void> }) {
  const { t, lang } = useI18n();
  const [state, setState] = useState<Record<string, 'busy' | 'done' | string>>({});
  const isAdmin = session.tenants.principal.kind === 'admin';
  const retry = async (id: string) => {
    setState((s) => ({ ...s, [id]: 'busy' }));
    try {
      await session.client.tool('failed_bookings_retry', { jobId: id });
      setState((s) => ({ ...s, [id]: 'done' }));
      await reload();
    } catch (err) {
      setState((s) => ({ ...s, [id]: message(err) }));
    }
  };
  return (
    <section aria-labelledby="failed-h" class="panel failed">
      <h2 id="failed-h">{t.failedBookings}</h2>
      {!jobs ? (
        <p class="muted">{t.loading}</p>
      ) : jobs.length === 0 ? (
        <p class="muted">{t.noFailed}</p>
      ) : (
        <ul class="jobs">
          {jobs.map((j) => {
            const st = state[j.id];
            return (
              <li key={j.id} class="job" data-job={j.id}>
                <p class="reason">
                  <span class="visually-hidden">{t.reason}: </span>
                  <span class="reason-text">{j.reason}</span>
                </p>
                <p class="muted">
                  {[j.branch, j.service].filter(Boolean).join(' · ')} · {t.start} {dateTime(lang, j.start)} · {t.failedAt} {dateTime(lang, j.failedAt)}
                </p>
                <p class="job-actions">
                  <button type="button" onClick={() => void retry(j.id)} disabled={st === 'busy' || st === 'done'} aria-describedby={`job-${j.id}-state`}>
                    {st === 'busy' ? t.retrying : t.retry}
                  </button>
                  {j.callId && <a href={`#/call/${encodeURIComponent(j.callId)}`}>{t.openCall}</a>}
                  {isAdmin && (
                    <a href={`/admin/queues/queue/bookings/${encodeURIComponent(j.id)}`} target="_blank" rel="noopener">
                      {t.inBoard}
                    </a>
                  )}
                  <span id={`job-${j.id}-state`} role="status" class={st && st !== 'busy' && st !== 'done' ? 'error' : 'muted'}>
                    {st === 'done' ? t.retried : st && st !== 'busy' ? st : ''}
                  </span>
                </p>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function SystemPanel({ breakers, queues }: { breakers: Breaker[]; queues: QueueRow[] }) {
  const { t } = useI18n();
  const showAll = queues.some((q) => q.failed !== undefined);
  return (
    <section aria-labelledby="system-h" class="panel system">
      <h2 id="system-h">{t.system}</h2>
      <h3>{t.breakers}</h3>
      <ul class="breakers">
        {breakers.map((b) => (
          <li key={b.service} data-breaker={b.service}>
            {b.service}: <span class={`state state-${b.state}`}>{t[b.state]}</span>
          </li>
        ))}
      </ul>
      <h3>{t.queues}</h3>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">{t.queue}</th>
              <th scope="col">{t.waiting}</th>
              <th scope="col">{t.active}</th>
              <th scope="col">{t.delayed}</th>
              {showAll && <th scope="col">{t.failed}</th>}
              {showAll && <th scope="col">{t.completed}</th>}
            </tr>
          </thead>
          <tbody>
            {queues.map((q) => (
              <tr key={q.name}>
                <th scope="row">{q.name}</th>
                <td>{q.waiting}</td>
                <td>{q.active}</td>
                <td>{q.delayed}</td>
                {showAll && <td>{q.failed}</td>}
                {showAll && <td>{q.completed}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function BranchTable({ stats }: { stats: Stats }) {
  const { t, lang } = useI18n();
  return (
    <section aria-labelledby="branches-h" class="panel wide">
      <h2 id="branches-h">{t.byBranch}</h2>
      <div class="scroll">
        <table class="branches">
          <thead>
            <tr>
              <th scope="col">{t.company}</th>
              <th scope="col">{t.branch}</th>
              <th scope="col">
                {t.calls} ({t.today})
              </th>
              <th scope="col">
                {t.calls} ({t.range})
              </th>
              {OUTCOMES.map((o) => (
                <th scope="col" key={o}>
                  {t[o]}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {stats.branches.map((b) => (
              <tr key={b.branchId} data-branch={`${b.company}/${b.branch}`}>
                <td>{b.companyName}</td>
                <th scope="row">{b.branchName}</th>
                <td>{b.today.calls}</td>
                <td>{b.range.calls}</td>
                {OUTCOMES.map((o) => (
                  <td key={o}>
                    {b.range[o]} <span class="share">{share(lang, b.range[o], b.range.calls)}</span>
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

interface CallsPanelProps {
  page: CallsPage | null;
  f: Filters;
  set: (p: Partial<Filters>) => void;
  canGoNewer: boolean;
  newer: () => void;
  older: () => void;
  shownBefore: number;
  branchName: (id: number) => string | undefined;
}

function CallsPanel({ page, f, set, canGoNewer, newer, older, shownBefore, branchName }: CallsPanelProps) {
  const { t, lang } = useI18n();
  return (
    <section aria-labelledby="calls-h" class="panel wide">
      <h2 id="calls-h">{t.callsHeading}</h2>
      <div class="field inline">
        <label for="f-outcome">{t.outcome}</label>
        <select id="f-outcome" value={f.outcome} onChange={(e) => set({ outcome: e.currentTarget.value as Filters['outcome'] })}>
          <option value="">{t.anyOutcome}</option>
          {OUTCOMES.map((o) => (
            <option key={o} value={o}>
              {t[o]}
            </option>
          ))}
        </select>
      </div>
      {!page ? (
        <p class="muted">{t.loading}</p>
      ) : page.calls.length === 0 ? (
        <p class="muted">{t.noCalls}</p>
      ) : (
        <div class="scroll">
          <table class="calls">
            <thead>
              <tr>
                <th scope="col">{t.time}</th>
                <th scope="col">{t.branch}</th>
                <th scope="col">{t.status}</th>
                <th scope="col">{t.outcome}</th>
                <th scope="col">{t.reason}</th>
                <th scope="col">{t.duration}</th>
              </tr>
            </thead>
            <tbody>
              {page.calls.map((c) => (
                <tr key={c.callId} data-call={c.callId}>
                  <td>
                    <a href={`#/call/${encodeURIComponent(c.callId)}`} aria-label={`${t.details}: ${c.callId}`}>
                      {dateTime(lang, c.at)}
                    </a>
                  </td>
                  <td data-branch={c.branch}>{branchName(c.branchId) ?? c.branch}</td>
                  <td>{t.callStatus[c.status] ?? c.status}</td>
                  <td>
                    <span class={`pill o-${c.outcome}`}>{t[c.outcome]}</span>
                  </td>
                  <td>{c.reason ?? ''}</td>
                  <td>{duration(c.durationMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page && (
        <nav class="pager" aria-label={t.callsHeading}>
          <button type="button" onClick={newer} disabled={!canGoNewer}>
            {t.newer}
          </button>
          <span>{t.pageOf(Math.min(page.total, shownBefore + page.calls.length), page.total)}</span>
          <button type="button" onClick={older} disabled={!page.nextCursor}>
            {t.older}
          </button>
        </nav>
      )}
    </section>
  );
}

function SlotLookup({ session, f }: { session: Session; f: Filters }) {
  const { t } = useI18n();
  const options = session.tenants.companies
    .filter((c) => !f.company || c.slug === f.company)
    .flatMap((c) => c.branches.filter((b) => !f.branch || b.slug === f.branch).map((b) => ({ company: c, branch: b, value: `${c.slug}/${b.slug}` })));
  const [where, setWhere] = useState('');
  const chosen = options.find((o) => o.value === where) ?? options[0];
  const services = chosen ? chosen.company.services.filter((s) => s.branch === null || s.branch === chosen.branch.slug) : [];
  const [service, setService] = useState('');
  const [day, setDay] = useState(isoDay());
  const [result, setResult] = useState<Slots | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const svc = services.find((s) => s.slug === service) ?? services[0];
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!chosen || !svc) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const scoped = session.tenants.principal.kind !== 'admin';
      setResult(
        await session.client.tool<Slots>('availability_check', {
          ...(scoped ? {} : { company: chosen.company.slug }),
          ...(session.tenants.principal.kind === 'branch' ? {} : { branch: chosen.branch.slug }),
          service: svc.slug,
          date: day,
        }),
      );
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="slots-h" class="panel slots">
      <h2 id="slots-h">{t.slots}</h2>
      <form onSubmit={submit}>
        {options.length > 1 && (
          <div class="field">
            <label for="s-branch">{t.branch}</label>
            <select id="s-branch" value={chosen?.value} onChange={(e) => setWhere(e.currentTarget.value)}>
              {options.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.company.name} · {o.branch.name}
                </option>
              ))}
            </select>
          </div>
        )}
        <div class="field">
          <label for="s-service">{t.service}</label>
          <select id="s-service" value={svc?.slug} onChange={(e) => setService(e.currentTarget.value)}>
            {services.map((s) => (
              <option key={s.slug} value={s.slug}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="s-day">{t.day}</label>
          <input id="s-day" type="date" required value={day} onChange={(e) => setDay(e.currentTarget.value)} />
        </div>
        <button type="submit" disabled={busy || !svc}>
          {t.lookUp}
        </button>
      </form>
      <div aria-live="polite">
        {error && <p class="error">{error}</p>}
        {result &&
          (result.local.length ? (
            <ul class="slot-list" aria-label={`${t.slots} ${day}`}>
              {result.local.map((s) => (
                <li key={s}>{s}</li>
              ))}
            </ul>
          ) : (
            <p class="muted">{t.noSlots}</p>
          ))}
      </div>
    </section>
  );
}
