import {
  auditLog
} from "./chunk-AQ2OROU7.js";

// lib/audit.ts
async function audit(db, entry) {
  await db.insert(auditLog).values({
    companyId: entry.companyId ?? null,
    actor: entry.actor.slice(0, 100),
    action: entry.action.slice(0, 100),
    target: entry.target?.slice(0, 200) ?? null,
    details: entry.details ?? null
  });
}

export {
  audit
};
//# sourceMappingURL=chunk-54VZ3ZP4.js.map
