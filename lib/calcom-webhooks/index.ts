/** Cal.com's outgoing webhooks: signature, schema, which company, and what they change. */
export { verifyCalcomSignature, signCalcomBody, findSigner, isWellFormedCalcomSignature } from './signature';
export { HANDLED_TRIGGERS, isHandledTrigger, envelopeSchema, bookingWebhookSchema, peekEventTypeId, calcomDedupeKey, type CalcomBookingWebhook, type HandledTrigger } from './schema';
export { companyBySlug, companiesBookingEventType, companiesWithSecrets, type SigningCompany } from './companies';
export { handleCalcomWebhook, type CalcomWebhookDeps, type CalcomWebhookOutcome, type CalcomWebhookResult } from './process';
