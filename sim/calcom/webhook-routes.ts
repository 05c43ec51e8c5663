/**
 * Webhook management under `/v2/webhooks` (API key, no cal-api-version): create, list, get, update and
 * delete the key's user webhooks, in the UserWebhookOutputDto shape. Delivery lives in `webhooks.ts`.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { SimHttpError, notAllowed, validationError, type FieldError } from './errors';
import { intParam, readBody, requireAccount, success, type SimDeps } from './http';
import type { AccountRecord, SimState } from './state';
import type { SimEnv, SimWebhook } from './types';
import { WEBHOOK_TRIGGERS } from './webhooks';

const url = z.string().refine((v) => /^https?:\/\/\S+$/.test(v), { message: 'subscriberUrl must be a URL address' });
const triggers = z.array(z.enum(WEBHOOK_TRIGGERS), {
  error: `each value in triggers must be one of the following values: ${WEBHOOK_TRIGGERS.join(', ')}`,
});

const createSchema = z.strictObject({
  subscriberUrl: url,
  triggers,
  active: z.boolean({ error: 'active must be a boolean value' }),
  secret: z.string().optional(),
  payloadTemplate: z.string().optional(),
});
const updateSchema = createSchema.partial();

function parse<T>(schema: z.ZodType<T>, raw: unknown): T {
  const result = schema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const errors: FieldError[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') errors.push(...issue.keys.map(notAllowed));
    else errors.push({ prop: issue.path.join('.') || 'body', constraints: [issue.message] });
  }
  throw validationError(errors);
}

export function webhookOutput(w: SimWebhook, owner: AccountRecord): Record<string, unknown> {
  return {
    id: w.id,
    userId: owner.id,
    subscriberUrl: w.subscriberUrl,
    triggers: [...w.triggers],
    active: w.active,
    payloadTemplate: w.payloadTemplate,
    ...(w.secret !== undefined ? { secret: w.secret } : {}),
  };
}

function own(state: SimState, account: AccountRecord, idRaw: string | undefined): SimWebhook {
  const id = intParam(idRaw, 'webhookId');
  const w = state.webhooks.find((x) => x.id === id && x.ownerApiKey === account.apiKey);
  if (!w) throw new SimHttpError(404, `Webhook with id ${id} not found`);
  return w;
}

export function webhookRoutes({ state }: SimDeps): Hono<SimEnv> {
  const r = new Hono<SimEnv>();

  r.post('/', (c) => {
    const account = requireAccount(c, state);
    const input = parse(createSchema, readBody(c));
    const w: SimWebhook = {
      id: state.takeWebhookId(),
      ownerApiKey: account.apiKey,
      subscriberUrl: input.subscriberUrl,
      triggers: [...input.triggers],
      active: input.active,
      payloadTemplate: input.payloadTemplate ?? null,
      ...(input.secret !== undefined ? { secret: input.secret } : {}),
    };
    state.webhooks.push(w);
    return success(c, webhookOutput(w, account), 201);
  });

  r.get('/', (c) => {
    const account = requireAccount(c, state);
    const take = Math.min(Number(c.req.query('take') ?? 250) || 250, 250);
    const skip = Math.max(Number(c.req.query('skip') ?? 0) || 0, 0);
    const mine = state.webhooks.filter((w) => w.ownerApiKey === account.apiKey).slice(skip, skip + take);
    return success(c, mine.map((w) => webhookOutput(w, account)));
  });

  r.get('/:id', (c) => {
    const account = requireAccount(c, state);
    return success(c, webhookOutput(own(state, account, c.req.param('id')), account));
  });

  r.patch('/:id', (c) => {
    const account = requireAccount(c, state);
    const w = own(state, account, c.req.param('id'));
    const input = parse(updateSchema, readBody(c));
    if (input.subscriberUrl !== undefined) w.subscriberUrl = input.subscriberUrl;
    if (input.triggers !== undefined) w.triggers = [...input.triggers];
    if (input.active !== undefined) w.active = input.active;
    if (input.secret !== undefined) w.secret = input.secret;
    if (input.payloadTemplate !== undefined) w.payloadTemplate = input.payloadTemplate;
    return success(c, webhookOutput(w, account));
  });

  r.delete('/:id', (c) => {
    const account = requireAccount(c, state);
    const w = own(state, account, c.req.param('id'));
    state.webhooks = state.webhooks.filter((x) => x !== w);
    return success(c, webhookOutput(w, account));
  });

  return r;
}
