/**
 * The real-time transcript fields Retell's call object carries into a live function request (its
 * docs: the call object "contains real time transcript up to the time the request is sent", with
 * the Get Call API's fields): `transcript`, `transcript_object` (utterances, each word with its
 * timing) and `transcript_with_tool_calls` (the same utterances and the function calls so far),
 * for a conversation of `minutes` at 150 words a minute, timings with seven decimals as Retell's
 * examples print them, a function call every two minutes. Used by test/live-functions.test.ts and
 * bench/live.ts (`BENCH_CALL_MINUTES`).
 */
const WORDS = 'ja gern ich hätte gern einen Termin zum Schneiden am Dienstag so gegen elf Uhr wenn das geht und mein Name ist Anna Schmidt'.split(' ');

type Word = { word: string; start: number; end: number };
type Utterance = { role: 'agent' | 'user'; content: string; words: Word[] };

/** Seconds as Retell's examples print them: seven decimals. */
const seconds = (t: number) => Math.round(t * 1e7) / 1e7;

/** The fields; none for 0 minutes. */
export type RealtimeTranscript = Partial<{ transcript: string; transcript_object: Utterance[]; transcript_with_tool_calls: unknown[] }>;

export function realtimeTranscript(minutes: number): RealtimeTranscript {
  if (minutes <= 0) return {};
  const utterances: Utterance[] = [];
  let t = 0.7037036;
  for (let w = 0, turn = 0; w < minutes * 150; turn++) {
    const words = Array.from({ length: 12 }, (_, i): Word => {
      const word = { word: WORDS[(w + i) % WORDS.length]!, start: seconds(t), end: seconds(t + 0.3172839) };
      t += 0.4012345;
      return word;
    });
    w += words.length;
    utterances.push({ role: turn % 2 ? 'user' : 'agent', content: words.map((x) => x.word).join(' '), words });
  }
  // A function call and its answer every two minutes or so (each utterance is about 5 s).
  const slots = Array.from({ length: 12 }, (_, i) => ({ start: `2026-12-08T${String(9 + (i >> 1)).padStart(2, '0')}:${i % 2 ? '30' : '00'}:00.000Z` }));
  const withTools: unknown[] = [];
  utterances.forEach((u, i) => {
    withTools.push(u);
    if (i % 24 !== 1) return;
    const id = `tc_${i}`;
    withTools.push({ role: 'tool_call_invocation', tool_call_id: id, name: 'check_availability', arguments: JSON.stringify({ when: 'Dienstag', service: 'Schnitt' }) });
    withTools.push({ role: 'tool_call_result', tool_call_id: id, content: JSON.stringify({ result: 'Frei ist Dienstag 10:00, 10:30 und 11:00.', status: 'available', slots }) });
  });
  return {
    transcript: utterances.map((u) => `${u.role === 'agent' ? 'Agent' : 'User'}: ${u.content}`).join('\n'),
    transcript_object: utterances,
    transcript_with_tool_calls: withTools,
  };
}
