/**
 * Public surface of the Cal.com API v2 simulator: build it (`createCalcomSim`), serve it
 * (`startCalcomSim`), seed it (`demoSeed`), and verify what it signs (`signWebhookBody`).
 */
export { createCalcomSim, type CalcomSimOptions } from './app';
export { startCalcomSim, type RunningCalcomSim } from './listen';
export { demoSeed, type DemoSeed } from './state';
export { signWebhookBody, bookingWebhookBody, WEBHOOK_TRIGGERS, type BookingTrigger } from './webhooks';
export { MSG as CALCOM_MESSAGES, BARE_500 } from './errors';
export { API_VERSIONS } from './http';
export type {
  CalcomSim,
  FaultConfig,
  SimAccount,
  SimAttendee,
  SimBooking,
  SimBookingStatus,
  SimEnv,
  SimEventType,
  SimRequestLogEntry,
  SimWebhook,
  SimWebhookDelivery,
} from './types';
