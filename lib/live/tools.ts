/**
 * The Retell custom-tool definitions of callbook's live-call functions: what `agents provision`
 * puts on an agent's Retell LLM and what `GET /functions/retell` shows people who configure
 * Retell by hand. The JSON Schema of each tool's parameters is generated from the very zod
 * schema the route validates the args with (`liveFunction(name).args`), so the two cannot drift.
 *
 * Retell's default body shape is kept (`{name, call, args}`, no `args_at_root`): the call object
 * is what tells callbook the company and the caller.
 */
import { z } from 'zod';
import type { Lang } from '../datetime';
import { LIVE_FUNCTION_NAMES, liveFunction } from './index';

/** A Retell `CustomTool` (retell-sdk LlmUpdateParams.CustomTool), the fields callbook sets. */
export interface RetellCustomTool {
  type: 'custom';
  name: string;
  description: string;
  url: string;
  method: 'POST';
  parameters: { type: 'object'; properties: Record<string, unknown>; required?: string[] };
  speak_during_execution: boolean;
  speak_after_execution: boolean;
  execution_message_description?: string;
  timeout_ms: number;
}

interface ToolText {
  /** Timeout per attempt: reads answer from cache in well under a second; a booking waits on Cal.com. */
  timeoutMs: number;
  /** Say "one moment" while it runs: only for the ones that go to Cal.com. */
  speakDuring: boolean;
  description: Record<Lang, string>;
  executionMessage?: Record<Lang, string>;
}

const TEXT: Record<string, ToolText> = {
  list_services: {
    timeoutMs: 5_000,
    speakDuring: false,
    description: {
      de: 'Nennt die Leistungen, die dieser Standort anbietet. Aufrufen, wenn der Anrufer fragt, was möglich ist, oder eine Leistung nicht passt.',
      en: 'Lists the services this location offers. Call it when the caller asks what is possible or a service does not match.',
    },
  },
  check_availability: {
    timeoutMs: 8_000,
    speakDuring: true,
    description: {
      de: 'Prüft freie Termine für einen Tag, einen Zeitraum ("morgen vormittag") oder eine Uhrzeit. Vor jeder Buchung aufrufen.',
      en: 'Checks free slots for a day, a range ("tomorrow morning") or one time. Call it before booking.',
    },
    executionMessage: { de: 'Einen Moment, ich schaue in den Kalender.', en: 'One moment, let me check the calendar.' },
  },
  book_appointment: {
    timeoutMs: 15_000,
    speakDuring: true,
    description: {
      de: 'Bucht den Termin, den der Anrufer bestätigt hat. Erst aufrufen, wenn Tag, Uhrzeit und Leistung klar sind und der Anrufer zugestimmt hat.',
      en: 'Books the appointment the caller confirmed. Call it only once day, time and service are clear and the caller agreed.',
    },
    executionMessage: { de: 'Einen Moment, ich trage den Termin ein.', en: 'One moment, I am booking that for you.' },
  },
  find_appointments: {
    timeoutMs: 5_000,
    speakDuring: false,
    description: {
      de: 'Findet die kommenden Termine des Anrufers (nach seiner Rufnummer). Vor dem Verschieben oder Absagen aufrufen.',
      en: "Finds the caller's upcoming appointments (by their number). Call it before moving or cancelling one.",
    },
  },
  reschedule_appointment: {
    timeoutMs: 15_000,
    speakDuring: true,
    description: {
      de: 'Verschiebt einen Termin des Anrufers auf eine neue Zeit.',
      en: "Moves one of the caller's appointments to a new time.",
    },
    executionMessage: { de: 'Einen Moment, ich verschiebe den Termin.', en: 'One moment, I am moving the appointment.' },
  },
  cancel_appointment: {
    timeoutMs: 10_000,
    speakDuring: true,
    description: {
      de: 'Sagt einen Termin des Anrufers ab, nachdem er es bestätigt hat.',
      en: "Cancels one of the caller's appointments after they confirmed.",
    },
    executionMessage: { de: 'Einen Moment, ich sage den Termin ab.', en: 'One moment, I am cancelling the appointment.' },
  },
};

/** The JSON Schema Retell gets for a function's args: its zod schema as input, without `$schema`. */
export function toolParameters(name: string): RetellCustomTool['parameters'] {
  const fn = liveFunction(name);
  if (!fn) throw new Error(`no live-call function "${name}"`);
  const { $schema: _ignored, ...schema } = z.toJSONSchema(fn.args as z.ZodType, { io: 'input' }) as Record<string, unknown>;
  return schema as RetellCustomTool['parameters'];
}

/** `https://host` + `/functions/retell/<name>`. */
export function functionUrl(publicUrl: string, name: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/functions/retell/${name}`;
}

/** The custom tool of every live-call function, in `lang`, pointing at `publicUrl`. */
export function liveToolDefinitions(publicUrl: string, lang: Lang): RetellCustomTool[] {
  return LIVE_FUNCTION_NAMES.map((name) => {
    const t = TEXT[name];
    if (!t) throw new Error(`live-call function "${name}" has no tool text in lib/live/tools.ts`);
    return {
      type: 'custom',
      name,
      description: t.description[lang],
      url: functionUrl(publicUrl, name),
      method: 'POST',
      parameters: toolParameters(name),
      speak_during_execution: t.speakDuring,
      speak_after_execution: true,
      ...(t.executionMessage ? { execution_message_description: t.executionMessage[lang] } : {}),
      timeout_ms: t.timeoutMs,
    };
  });
}
