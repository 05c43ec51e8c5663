/** Deliver a Retell webhook body straight to the webhook worker's processing, sealed as the ingress seals it. */
import { processRetellWebhook, type WebhookOutcome } from '../../lib/calls/process-retell-webhook';
import type { AppContext } from '../../lib/context';

export function webhookDeliverer(ctx: () => Pick<AppContext, 'database' | 'cache' | 'cipher' | 'queues' | 'logger'>) {
  return (payload: Record<string, unknown>, signerCompanyId?: number): Promise<WebhookOutcome> => {
    const c = ctx();
    return processRetellWebhook(
      { db: c.database.db, cache: c.cache, cipher: c.cipher, bookingsQueue: c.queues.bookings, logger: c.logger },
      {
        provider: 'retell',
        event: String(payload.event),
        callId: (payload.call as { call_id: string }).call_id,
        receivedAt: Date.now(),
        sealedBody: c.cipher.encrypt(JSON.stringify(payload)),
        ...(signerCompanyId !== undefined ? { signerCompanyId } : {}),
      },
    );
  };
}
