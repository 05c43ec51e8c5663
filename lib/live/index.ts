/**
 * Live-call functions: what a Retell agent can do while the caller is on the line. One module
 * per function; this index names them and runs one request: read the body (either Retell
 * shape, parsed once by lib/retell/body), validate the function's args, resolve company/branch/caller, run.
 *
 * @example
 *   const fn = liveFunction('check_availability');
 *   const { say, data } = await runLiveFunction(deps, fn!, body); // body: parseLiveBody(json).value, authenticated by the route
 */
import { bookAppointment } from './book-appointment';
import { cancelAppointmentFn } from './cancel-appointment';
import { checkAvailability } from './check-availability';
import type { LiveBody } from '../retell/body';
import { LiveError, resolveLiveCall } from './context';
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

/** Run `fn` for a body parsed (and authenticated) once by the route: args, then company and caller. */
export async function runLiveFunction(deps: LiveDeps, fn: LiveFunction<unknown>, body: LiveBody, signerCompanyId?: number): Promise<LiveAnswer> {
  const args = fn.args.safeParse(body.args);
  if (!args.success) {
    const issues = args.error.issues.map((i) => ({ path: body.argsPath + i.path.map(String).join('.') || '(root)', message: i.message }));
    throw new LiveError(422, 'bad_args', `${fn.name}: invalid args`, issues);
  }
  const call = await resolveLiveCall(deps.booking.db, deps.booking.cache, body, fn, signerCompanyId);
  return fn.run(deps, call, args.data);
}
