/** Reading callers' requested appointment times in a branch's timezone; see ./spoken. */
export { parseRequestedStart, parseRequestedRange, parseDateAndTime } from './spoken';
export type { RequestedStart, RequestedRange } from './spoken';
// Formatting only (no chrono-node): import './format' directly where nothing is parsed.
export { toZonedIso, speakTime, type Lang } from './format';
