/** A statement's label for metrics, slow-query logs and error reasons: never its values. */

/** `select calls`, `insert appointments`, `update customers`, `begin` … — a label, never values. */
export function operationName(sqlText: string): string {
  const s = sqlText.trimStart();
  const verb = (/^\w+/.exec(s)?.[0] ?? 'unknown').toLowerCase();
  const table =
    verb === 'select' || verb === 'delete'
      ? /\bfrom\s+`?(\w+)`?/i.exec(s)?.[1]
      : verb === 'insert'
        ? /\binto\s+`?(\w+)`?/i.exec(s)?.[1]
        : verb === 'update'
          ? /^update\s+`?(\w+)`?/i.exec(s)?.[1]
          : undefined;
  return table ? `${verb} ${table}` : verb;
}
