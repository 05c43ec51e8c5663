/**
 * Fault injection: a global and a per-API-key `FaultConfig`, and the per-request `x-sim-fault` header
 * (`500|hang|drop|429|latency=<ms>`, comma-separated to combine), turned into one plan per request. When the
 * header is present it alone decides; the configs are not consulted and no burst is consumed.
 */
import { z } from 'zod';
import { SimHttpError } from './errors';
import type { FaultConfig } from './types';

const ratio = z.number().min(0).max(1);

export const faultConfigSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(600_000).optional(),
  errorRatio: ratio.optional(),
  hangRatio: ratio.optional(),
  burst429: z.number().int().min(0).optional(),
  burst429ResetSeconds: z.number().int().min(0).max(3600).optional(),
  dropAfterOkRatio: ratio.optional(),
});

export interface FaultPlan {
  latencyMs: number;
  /** Answer instead of acting: bare 500, never, or 429. */
  abort?: '500' | 'hang' | '429';
  /** Act, then destroy the socket. */
  drop: boolean;
  burstResetSeconds: number;
  /** For the request log. */
  label?: string;
}

const NONE: FaultPlan = { latencyMs: 0, drop: false, burstResetSeconds: 1 };

/** Parses an `x-sim-fault` header; an unknown token is a 400 so a typo in a test cannot pass silently. */
export function parseFaultHeader(value: string): FaultPlan {
  const plan: FaultPlan = { ...NONE };
  for (const raw of value.split(',')) {
    const token = raw.trim().toLowerCase();
    if (!token) continue;
    const [name, arg] = token.split('=', 2) as [string, string | undefined];
    if (name === 'latency' && arg !== undefined && /^\d+$/.test(arg)) plan.latencyMs = Number(arg);
    else if (name === '500' || name === 'hang' || name === '429') {
      plan.abort = name;
      if (name === '429' && arg !== undefined && /^\d+$/.test(arg)) plan.burstResetSeconds = Number(arg);
    } else if (name === 'drop') plan.drop = true;
    else {
      throw new SimHttpError(
        400,
        `x-sim-fault: unknown token "${token}"; use 500, hang, drop, 429[=<resetSeconds>] or latency=<ms>`,
      );
    }
  }
  plan.label = value.trim();
  return plan;
}

function label(plan: FaultPlan): string | undefined {
  const parts: string[] = [];
  if (plan.latencyMs > 0) parts.push(`latency=${plan.latencyMs}`);
  if (plan.abort) parts.push(plan.abort);
  if (plan.drop) parts.push('drop');
  return parts.length ? parts.join(',') : undefined;
}

export class FaultInjector {
  private global: FaultConfig = {};
  private perKey = new Map<string, FaultConfig>();
  /** Remaining burst429 answers per scope; '' is the global scope. */
  private burstLeft = new Map<string, number>();

  constructor(private readonly random: () => number) {}

  set(f: FaultConfig, apiKey?: string): void {
    const config = faultConfigSchema.parse(f);
    if (apiKey === undefined) this.global = config;
    else this.perKey.set(apiKey, config);
    this.burstLeft.set(apiKey ?? '', config.burst429 ?? 0);
  }

  clear(): void {
    this.global = {};
    this.perKey.clear();
    this.burstLeft.clear();
  }

  /** The faults for one request; consumes a burst429 answer when one applies. */
  plan(apiKey: string | undefined, header: string | undefined): FaultPlan {
    if (header !== undefined && header.trim() !== '') return parseFaultHeader(header);
    const own = apiKey === undefined ? undefined : this.perKey.get(apiKey);
    const config: FaultConfig = { ...this.global, ...own };
    const plan: FaultPlan = {
      ...NONE,
      latencyMs: config.latencyMs ?? 0,
      burstResetSeconds: config.burst429ResetSeconds ?? 1,
    };
    const scope = apiKey !== undefined && (this.burstLeft.get(apiKey) ?? 0) > 0 ? apiKey : '';
    const left = this.burstLeft.get(scope) ?? 0;
    if (left > 0) {
      this.burstLeft.set(scope, left - 1);
      const resetFrom = scope === '' ? this.global : own;
      plan.burstResetSeconds = resetFrom?.burst429ResetSeconds ?? 1;
      plan.abort = '429';
    } else if (this.random() < (config.hangRatio ?? 0)) plan.abort = 'hang';
    else if (this.random() < (config.errorRatio ?? 0)) plan.abort = '500';
    else if (this.random() < (config.dropAfterOkRatio ?? 0)) plan.drop = true;
    plan.label = label(plan);
    return plan;
  }
}
