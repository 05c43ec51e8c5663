/**
 * One call: what was said (summary, transcript), what callbook decided and why, the appointment
 * and the notifications about it. Read through MCP `calls_get`, so opening it writes the same
 * audit row as any MCP client's read of the call.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { useI18n, type Session } from './app';
import { dateTime, duration } from './format';
import { RpcError } from './mcp';
import type { CallDetail } from './types';

/** "Salon Anna · Salon Anna Mitte" for the slugs a call names. */
function branchLabel(session: Session, company: string, branch: string): string {
  const co = session.tenants.companies.find((c) => c.slug === company);
  const br = co?.branches.find((b) => b.slug === branch);
  return co && br ? `${co.name} · ${br.name}` : `${company} / ${branch}`;
}

export function CallDetailView({ session, callId }: { session: Session; callId: string }) {
  const { t, lang } = useI18n();
  const [d, setD] = useState<CallDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    setD(null);
    setError(null);
    session.client.tool<CallDetail>('calls_get', { callId }).then(setD, (err: unknown) => setError(err instanceof RpcError && err.code === -32002 ? t.notFound : (err as Error).message));
  }, [callId]);
  // Move focus to the new view, so keyboard and screen-reader users land on it.
  useEffect(() => heading.current?.focus(), [d, error]);

  const back = (
    <p>
      <a href="#" class="back">
        ← {t.back}
      </a>
    </p>
  );
  if (error)
    return (
      <main id="main" class="detail">
        {back}
        <h1 tabIndex={-1} ref={heading}>
          {t.callDetail} {callId}
        </h1>
        <p class="error" role="alert">
          {error}
        </p>
      </main>
    );
  if (!d)
    return (
      <main id="main" class="detail">
        {back}
        <p>{t.loading}</p>
      </main>
    );
  const c = d.call;
  const decision = c.bookingDecision === 'book' ? t.decisionBook : c.bookingDecision === 'no_booking' ? t.decisionNo : t.decisionNone;
  return (
    <main id="main" class="detail">
      {back}
      <h1 tabIndex={-1} ref={heading}>
        {t.callDetail} <code>{c.callId}</code>
      </h1>
      <div class="grid">
        <section class="panel" aria-labelledby="d-call">
          <h2 id="d-call">{t.details}</h2>
          <dl class="kv">
            <dt>{t.branch}</dt>
            <dd>{branchLabel(session, c.company, c.branch)}</dd>
            <dt>{t.time}</dt>
            <dd>{dateTime(lang, c.startedAt)}</dd>
            <dt>{t.duration}</dt>
            <dd>{duration(c.durationMs)}</dd>
            <dt>{t.status}</dt>
            <dd>{t.callStatus[c.status] ?? c.status}</dd>
            <dt>{t.sentiment}</dt>
            <dd>{c.sentiment ?? '–'}</dd>
            <dt>{t.customer}</dt>
            <dd>{d.customer ? [d.customer.name, d.customer.phone, d.customer.email].filter(Boolean).join(' · ') : '–'}</dd>
          </dl>
        </section>
        <section class="panel" aria-labelledby="d-decision">
          <h2 id="d-decision">{t.decision}</h2>
          <p class="decision">
            <strong>{decision}</strong>
          </p>
          {c.bookingReason && (
            <p>
              {t.reason}: <span class="decision-reason">{c.bookingReason}</span>
            </p>
          )}
          {c.bookingRequest && (
            <p>
              {t.requested}: {dateTime(lang, c.bookingRequest.start)}
            </p>
          )}
        </section>
        <section class="panel" aria-labelledby="d-appt">
          <h2 id="d-appt">{t.appointment}</h2>
          {d.appointments.length === 0 ? (
            <p class="muted">{t.noAppointment}</p>
          ) : (
            d.appointments.map((a) => (
              <dl class="kv appt" key={a.id}>
                <dt>#</dt>
                <dd>{a.id}</dd>
                <dt>{t.service}</dt>
                <dd>{a.serviceName ?? '–'}</dd>
                <dt>{t.start}</dt>
                <dd>{dateTime(lang, a.start)}</dd>
                <dt>{t.status}</dt>
                <dd>
                  <span class={`pill o-${a.status === 'rescheduled' ? 'booked' : a.status}`}>{a.status}</span>
                </dd>
                {a.calcomUid && (
                  <>
                    <dt>{t.calcomUid}</dt>
                    <dd>
                      <code>{a.calcomUid}</code>
                    </dd>
                  </>
                )}
                {a.failureReason && (
                  <>
                    <dt>{t.reason}</dt>
                    <dd class="error-text">{a.failureReason}</dd>
                  </>
                )}
                {a.alternatives?.length ? (
                  <>
                    <dt>{t.alternatives}</dt>
                    <dd>{a.alternatives.map((x) => dateTime(lang, x)).join(', ')}</dd>
                  </>
                ) : null}
              </dl>
            ))
          )}
        </section>
      </div>
      <section class="panel wide" aria-labelledby="d-notes">
        <h2 id="d-notes">{t.notifications}</h2>
        {d.notifications.length === 0 ? (
          <p class="muted">{t.noNotifications}</p>
        ) : (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t.message}</th>
                  <th scope="col">{t.channel}</th>
                  <th scope="col">{t.recipient}</th>
                  <th scope="col">{t.status}</th>
                  <th scope="col">{t.sentAt}</th>
                </tr>
              </thead>
              <tbody>
                {d.notifications.map((n) => (
                  <tr key={`${n.kind}-${n.appointmentId}`}>
                    <td>{n.kind === 'booking_confirmed' ? t.kind_booking_confirmed : n.kind === 'booking_failed' ? t.kind_booking_failed : n.kind}</td>
                    <td>{n.channel}</td>
                    <td>{n.recipient ?? '–'}</td>
                    <td>{n.error ? `${n.status}: ${n.error}` : n.status}</td>
                    <td>{dateTime(lang, n.sentAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {c.purgedAt && <p class="muted">{t.purged}</p>}
      <section class="panel wide" aria-labelledby="d-summary">
        <h2 id="d-summary">{t.summary}</h2>
        <p class="summary">{c.summary ?? '–'}</p>
      </section>
      <section class="panel wide" aria-labelledby="d-transcript">
        <h2 id="d-transcript">{t.transcript}</h2>
        <pre class="transcript" tabIndex={0}>
          {c.transcript ?? '–'}
        </pre>
      </section>
    </main>
  );
}
