/** Reading callers' requested appointment times in a branch's timezone; see ./spoken. */
export {
  parseRequestedStart,
  parseRequestedRange,
  parseDateAndTime,
  toZonedIso,
  speakTime,
} from './spoken';
export type { Lang, RequestedStart, RequestedRange } from './spoken';
