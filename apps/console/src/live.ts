/**
 * Follows /events (Server-Sent Events) with fetch rather than EventSource, so the token travels
 * in the Authorization header and never in a URL (EventSource cannot set headers). Reconnects
 * after the server's `retry:` (3 s), backing off to 30 s while the server is away; stops for
 * good on 401/403/404.
 */
export interface LiveEvent {
  type: string;
  companyId: number;
  branchId?: number;
  callId?: string;
  status?: string;
  decision?: string | null;
  appointmentId?: number;
  start?: string;
  reason?: string;
  at?: string;
}

export type LiveState = 'connecting' | 'live' | 'retrying' | 'refused';

export interface FollowOptions {
  token: string;
  company?: string;
  onEvent(e: LiveEvent): void;
  onState(s: LiveState): void;
}

export function followEvents(o: FollowOptions): () => void {
  const ac = new AbortController();
  let retryMs = 3000;
  let failures = 0;

  const run = async (): Promise<void> => {
    while (!ac.signal.aborted) {
      o.onState(failures ? 'retrying' : 'connecting');
      try {
        const q = o.company ? `?company=${encodeURIComponent(o.company)}` : '';
        const res = await fetch(`/events${q}`, { headers: { authorization: `Bearer ${o.token}`, accept: 'text/event-stream' }, signal: ac.signal });
        if ([400, 401, 403, 404].includes(res.status)) return o.onState('refused');
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        await read(res.body, (field) => {
          if (field.retry) retryMs = field.retry;
          if (field.event === 'ready') {
            failures = 0;
            o.onState('live');
          } else if (field.event && field.event !== 'error' && field.data) {
            try {
              o.onEvent(JSON.parse(field.data) as LiveEvent);
            } catch {
              // not JSON: not ours
            }
          }
        });
      } catch {
        if (ac.signal.aborted) return;
      }
      failures++;
      o.onState('retrying');
      await new Promise((r) => setTimeout(r, Math.min(30_000, retryMs * 2 ** Math.max(0, failures - 1))));
    }
  };
  void run();
  return () => ac.abort();
}

interface Message {
  event?: string;
  data?: string;
  retry?: number;
}

async function read(body: ReadableStream<Uint8Array>, onMessage: (m: Message) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
    for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const m: Message = {};
      for (const line of block.split('\n')) {
        if (!line || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') m.event = val;
        else if (field === 'data') m.data = m.data === undefined ? val : `${m.data}\n${val}`;
        else if (field === 'retry' && /^\d+$/.test(val)) m.retry = Number(val);
      }
      onMessage(m);
    }
  }
}
