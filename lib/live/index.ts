/**
 * Live-call functions: what a Retell agent can do while the caller is on the line. One module
 * per function; this index names them and runs one request: read the body (either Retell
 * shape), validate the function's args, resolve company/branch/caller, run.
 *
 * @example
 *   const fn = liveFunction('check_availability');
 *   const { say, data } = await runLiveFunction(deps, fn!, { name: 'check_availability', call, args: { when: 'morgen vormittag' } });
 */
import { bookAppointment } from './book-appointment';
import { cancelAppointmentFn } from './cancel-appointment';
import { checkAvailability } from './check-availability';
import { issuesOf, LiveError, readLiveBody, resolveLiveCall } from './context';
import { findAppointmentsFn } from './find-appointments';
import { listServices } from './list-services';
import { rescheduleAppointmentFn } from './reschedule-appointment';
import type { LiveAnswer, LiveDeps, LiveFunction } from './types';

export { LiveError } from './context';
export type { LiveAnswer, LiveDeps, LiveFunction } from './types';

const FUNCTIONS: ReadonlyArray<LiveFunction<any>> = [listServices, checkAvailability, bookAppointment, findAppointmentsFn, rescheduleAppointmentFn, cancelAppointmentFn];
const BY_NAME = new Map(FUNCTIONS.map((f) => [f.name, f]));

export const LIVE_FUNCTION_NAMES = FUNCTIONS.map((f) => f.name);

export function liveFunction(name: string): LiveFunction<unknown> | undefined {
  return BY_NAME.get(name);
}

export async function runLiveFunction(deps: LiveDeps, fn: LiveFunction<unknown>, json: unknown): Promise<LiveAnswer> {
  const req = readLiveBody(json);
  const args = fn.args.safeParse(req.args);
  if (!args.success) {
    throw new LiveError(422, 'bad_args', `${fn.name}: invalid args`, issuesOf(args.error, req.argsPath));
  }
  const call = await resolveLiveCall(deps.booking.db, deps.booking.cache, req);
  return fn.run(deps, call, args.data);
}
