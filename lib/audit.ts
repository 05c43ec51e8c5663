/**
 * The audit log: who changed or read what, when. Every state-changing operator command and
 * every read of personal data writes one row.
 */
import type { Db, Tx } from './db';
import { auditLog } from '../drizzle/schema';

export interface AuditEntry {
  companyId?: number | null;
  /** `cli:<user>`, `admin`, `mcp:<token id>`, `worker:<queue>`, `sandbox` … */
  actor: string;
  /** dotted verb, e.g. `gdpr.erase`, `failed.retry`, `breaker.reset` */
  action: string;
  target?: string;
  details?: Record<string, unknown>;
}

export async function audit(db: Db | Tx, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    companyId: entry.companyId ?? null,
    actor: entry.actor.slice(0, 100),
    action: entry.action.slice(0, 100),
    target: entry.target?.slice(0, 200) ?? null,
    details: entry.details ?? null,
  });
}
