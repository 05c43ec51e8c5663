import {
  BookingDeferred,
  BookingRejected,
  executeBooking,
  recordFinalFailure
} from "./chunk-FVWXLA2E.js";
import "./chunk-WCWRLYGH.js";
import {
  bookingDeps
} from "./chunk-6VOENOB6.js";
import "./chunk-A7KMJAOI.js";
import "./chunk-SC2WLIXO.js";
import "./chunk-XN5S2XO3.js";
import "./chunk-RUAA5PEO.js";
import {
  bookingJobSchema
} from "./chunk-Z42SQZT6.js";
import "./chunk-7WOGBSIY.js";
import {
  dbUnavailable
} from "./chunk-42NABTHE.js";
import "./chunk-AQ2OROU7.js";
import "./chunk-E5ZFRTTD.js";
import "./chunk-54KOYG5C.js";

// workers/bookings.ts
import { DelayedError, UnrecoverableError } from "bullmq";
function bookingsHandlerWith(deps) {
  return async (job, signal, token) => {
    const data = bookingJobSchema.parse(job.data);
    try {
      return await executeBooking(deps, data, signal);
    } catch (err) {
      if (dbUnavailable(err)) throw err;
      if (err instanceof BookingRejected) throw new UnrecoverableError(err.reason);
      if (err instanceof BookingDeferred) {
        deps.logger.info({ jobId: job.id, reason: err.reason, retryAt: new Date(err.retryAt).toISOString() }, "booking deferred");
        await job.moveToDelayed(err.retryAt, token);
        throw new DelayedError(err.message);
      }
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= attempts) {
        const reason = `gave up after ${attempts} attempts: ${err.message}`;
        await recordFinalFailure(deps, data, reason);
        throw new UnrecoverableError(reason);
      }
      throw err;
    }
  };
}
function bookingsHandler(ctx) {
  return bookingsHandlerWith(bookingDeps(ctx));
}
export {
  bookingsHandler,
  bookingsHandlerWith
};
//# sourceMappingURL=bookings-EMJN5HNJ.js.map
