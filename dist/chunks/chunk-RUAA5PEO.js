import {
  companies
} from "./chunk-AQ2OROU7.js";
import {
  isCiphertext
} from "./chunk-E5ZFRTTD.js";

// lib/pii/index.ts
import { createHmac } from "node:crypto";
import { eq } from "drizzle-orm";
var settings = null;
function configurePii(config, keyring) {
  settings = {
    keyring,
    blindIndexKey: config.BLIND_INDEX_KEY ? Buffer.from(config.BLIND_INDEX_KEY, "base64") : null,
    defaultOn: config.PII_ENCRYPTION_DEFAULT
  };
  flagCache.clear();
}
var NOT_CONFIGURED = "PII codec not configured: createContext (lib/context) or configurePii must run first";
function piiSettings() {
  if (settings) return settings;
  return {
    get keyring() {
      throw new Error(NOT_CONFIGURED);
    },
    blindIndexKey: null,
    defaultOn: false
  };
}
function blindIndexKeyMissing() {
  return settings !== null && settings.blindIndexKey === null;
}
function sealPii(keyring, companyPiiOn2, value) {
  if (value === null || value === void 0) return null;
  if (!companyPiiOn2 || isCiphertext(value)) return value;
  return keyring.encrypt(value);
}
function openPii(keyring, value) {
  if (value === null || value === void 0) return null;
  return isCiphertext(value) ? keyring.decrypt(value) : value;
}
function open(value) {
  if (value === null || value === void 0 || !isCiphertext(value)) return value ?? null;
  return piiSettings().keyring.decrypt(value);
}
var JSON_KEY = "$pii";
function sealPiiJson(keyring, companyPiiOn2, value) {
  if (value === null || value === void 0) return null;
  if (!companyPiiOn2 || isSealedJson(value)) return value;
  return { [JSON_KEY]: keyring.encrypt(JSON.stringify(value)) };
}
function isSealedJson(value) {
  return typeof value === "object" && value !== null && typeof value[JSON_KEY] === "string" && Object.keys(value).length === 1;
}
function openJson(value) {
  if (value === null || value === void 0) return null;
  return isSealedJson(value) ? JSON.parse(piiSettings().keyring.decrypt(value.$pii)) : value;
}
var missingKey = (what) => new Error(`BLIND_INDEX_KEY is missing: ${what} has PII encryption on and phone lookups need the blind index key (32 bytes, base64: openssl rand -base64 32)`);
function phoneIndex(companyId, e164) {
  const key = piiSettings().blindIndexKey;
  if (!key) return e164;
  return createHmac("sha256", key).update(`${companyId}:${e164}`).digest("hex");
}
function phoneIndexCandidates(companyId, e164) {
  const idx = phoneIndex(companyId, e164);
  return idx === e164 ? [e164] : [idx, e164];
}
var FLAG_TTL_MS = 3e4;
var flagCache = /* @__PURE__ */ new Map();
async function companyPiiOn(db, companyId) {
  const s = piiSettings();
  const hit = flagCache.get(companyId);
  let on;
  if (hit && Date.now() - hit.at < FLAG_TTL_MS) on = hit.on;
  else {
    const [row] = await db.select({ on: companies.piiEncryption }).from(companies).where(eq(companies.id, companyId));
    on = row?.on ?? s.defaultOn;
    flagCache.set(companyId, { on, at: Date.now() });
  }
  if (on && !settings) throw new Error(NOT_CONFIGURED);
  if (on && !s.blindIndexKey) throw missingKey(`company ${companyId}`);
  return on;
}
function forgetPiiFlags() {
  flagCache.clear();
}
async function piiSealer(db, companyId) {
  const on = await companyPiiOn(db, companyId);
  const s = piiSettings();
  return ((value) => on ? sealPii(s.keyring, true, value) : value ?? null);
}
async function piiJsonSealer(db, companyId) {
  const on = await companyPiiOn(db, companyId);
  const s = piiSettings();
  return (value) => on ? sealPiiJson(s.keyring, true, value) : value ?? null;
}
async function assertPiiKeys(db) {
  const s = piiSettings();
  if (s.blindIndexKey) return;
  if (s.defaultOn) throw missingKey("PII_ENCRYPTION_DEFAULT");
  const rows = await db.select({ slug: companies.slug, on: companies.piiEncryption }).from(companies);
  const on = rows.filter((r) => r.on === true);
  if (on.length) throw missingKey(`company ${on.map((r) => r.slug).join(", ")}`);
}

export {
  configurePii,
  piiSettings,
  blindIndexKeyMissing,
  sealPii,
  openPii,
  open,
  sealPiiJson,
  isSealedJson,
  openJson,
  phoneIndex,
  phoneIndexCandidates,
  forgetPiiFlags,
  piiSealer,
  piiJsonSealer,
  assertPiiKeys
};
//# sourceMappingURL=chunk-RUAA5PEO.js.map
