/**
 * PII encryption at rest (lib/pii): round trips, the blind index, find-or-create through the
 * webhook pipeline with encryption on, key rotation under concurrent writes, and a scan of a
 * real mariadb-dump for plaintext secrets and personal data.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls, companies, customers } from '../drizzle/schema';
import { upsertCustomer } from '../lib/calls/record-call';
import { loadConfig } from '../lib/config';
import { createContext, type AppContext } from '../lib/context';
import { ciphertextKeyId, isCiphertext, Keyring } from '../lib/crypto';
import { exportCustomer } from '../lib/gdpr/export';
import { findCustomer } from '../lib/gdpr/find';
import { isSealedJson, openJson, openPii, phoneIndex, sealPii } from '../lib/pii';
import { rotateKeys } from '../lib/pii/rotate';
import { importTenants } from '../lib/tenants/import';
import { createLogger } from '../lib/logger';
import { createTestEnv, MYSQL_ROOT, type TestEnv } from './helpers/env';
import { CLINIC_NUMBER, callId, retellEvent, SALON_NUMBER, twoCompanies } from './helpers/fixtures';
import { countBuiltStatements, statements } from './helpers/statements';
import { webhookDeliverer } from './helpers/webhooks';

const run = promisify(execFile);
const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64');

let env: TestEnv;
/** The context writes currently go through (key A, later key B). */
let ctx: AppContext;
let salonId: number;
let clinicId: number;

beforeAll(async () => {
  env = await createTestEnv({ ENCRYPTION_KEY: KEY_A, BLIND_INDEX_KEY: randomBytes(32).toString('base64') });
  ctx = env.ctx;
  const file = twoCompanies();
  file.companies[0]!.piiEncryption = true; // salon-anna encrypts; clinic-nord stays on the default (off)
  await importTenants({ db: ctx.database.db, cipher: ctx.cipher, cache: ctx.cache }, file, 'test');
  const rows = await ctx.database.db.select({ id: companies.id, slug: companies.slug }).from(companies);
  salonId = rows.find((r) => r.slug === 'salon-anna')!.id;
  clinicId = rows.find((r) => r.slug === 'clinic-nord')!.id;
});
afterAll(async () => {
  if (ctx !== env.ctx) await ctx.close();
  await env.cleanup();
});

const deliver = webhookDeliverer(() => ctx);

let phoneSeq = 0;
const newCaller = () => `+49171${String(1_000_000 + phoneSeq++).padStart(7, '0')}`;

describe('codec', () => {
  it('round-trips, keeps plaintext when off, and decrypts values of a previous key', () => {
    const a = new Keyring(KEY_A);
    const ct = sealPii(a, true, 'Anna Müller ✂');
    expect(isCiphertext(ct)).toBe(true);
    expect(ct).not.toContain('Anna');
    expect(openPii(a, ct)).toBe('Anna Müller ✂');
    expect(sealPii(a, false, 'Anna')).toBe('Anna');
    expect(openPii(a, 'Anna')).toBe('Anna'); // stored before encryption was on
    expect(sealPii(a, true, null)).toBeNull();

    const b = new Keyring(KEY_B, [KEY_A]);
    expect(b.decrypt(ct)).toBe('Anna Müller ✂');
    expect(b.needsRotation(ct)).toBe(true);
    expect(b.needsRotation(b.encrypt('x'))).toBe(false);
    expect(ciphertextKeyId(b.encrypt('x'))).toBe(b.keyId);
    expect(() => new Keyring(KEY_B).decrypt(ct)).toThrow(/ENCRYPTION_KEYS_PREVIOUS/);
  });

  it('fails fast naming BLIND_INDEX_KEY when encryption is on by default without it', () => {
    expect(() => loadConfig({ ...env.vars, BLIND_INDEX_KEY: '', PII_ENCRYPTION_DEFAULT: 'true' })).toThrow(/BLIND_INDEX_KEY is missing/);
    expect(() => loadConfig({ ...env.vars, ENCRYPTION_KEYS_PREVIOUS: 'c2hvcnQ=' })).toThrow(/ENCRYPTION_KEYS_PREVIOUS is invalid/);
    expect(loadConfig({ ...env.vars, ENCRYPTION_KEYS_PREVIOUS: `${KEY_A},${KEY_B}` }).ENCRYPTION_KEYS_PREVIOUS).toEqual([KEY_A, KEY_B]);
  });

  it('gives the same number different blind indexes in different companies, the same one each time', () => {
    const n = '+4917012345678';
    expect(phoneIndex(salonId, n)).toMatch(/^[0-9a-f]{64}$/);
    expect(phoneIndex(salonId, n)).toBe(phoneIndex(salonId, n));
    expect(phoneIndex(salonId, n)).not.toBe(phoneIndex(clinicId, n));
    expect(phoneIndex(salonId, n)).not.toBe(phoneIndex(salonId, '+4917012345679'));
  });
});

describe('with encryption on', () => {
  it('the webhook pipeline creates one customer per company and number and finds it again', async () => {
    const caller = newCaller();
    await deliver(retellEvent('call_ended', { callId: callId(), from: caller, to: SALON_NUMBER, vars: { customer_name: 'Berta Blindindex' } }));
    await deliver(retellEvent('call_ended', { callId: callId(), from: caller, to: SALON_NUMBER }));
    await deliver(retellEvent('call_ended', { callId: callId(), from: caller, to: CLINIC_NUMBER, vars: { customer_name: 'Berta Blindindex' } }));
    const db = ctx.database.db;
    const salon = await db.select().from(customers).where(and(eq(customers.companyId, salonId), eq(customers.phoneIndex, phoneIndex(salonId, caller))));
    expect(salon).toHaveLength(1);
    expect(isCiphertext(salon[0]!.phone)).toBe(true);
    expect(isCiphertext(salon[0]!.name!)).toBe(true);
    expect(openPii(ctx.cipher, salon[0]!.phone)).toBe(caller);
    expect(openPii(ctx.cipher, salon[0]!.name)).toBe('Berta Blindindex');
    const salonCalls = await db.select().from(calls).where(eq(calls.customerId, salon[0]!.id));
    expect(salonCalls).toHaveLength(2);
    for (const c of salonCalls) {
      expect(isCiphertext(c.fromNumber!)).toBe(true);
      expect(isCiphertext(c.transcript!)).toBe(true);
      expect(c.callerIndex).toBe(phoneIndex(salonId, caller));
    }
    // The other company: its own customer, stored in clear, indexed all the same.
    const clinic = await db.select().from(customers).where(and(eq(customers.companyId, clinicId), eq(customers.phoneIndex, phoneIndex(clinicId, caller))));
    expect(clinic).toHaveLength(1);
    expect(clinic[0]!.phone).toBe(caller);
    expect(clinic[0]!.id).not.toBe(salon[0]!.id);

    // Find-or-create from elsewhere (CLI/MCP booking) resolves the same row; GDPR finds and exports it decrypted.
    expect(await upsertCustomer(db, salonId, caller, undefined, 'berta@example.com')).toBe(salon[0]!.id);
    const ref = await findCustomer(db, { company: 'salon-anna', phone: caller });
    expect(ref.customerId).toBe(salon[0]!.id);
    const text = JSON.stringify(await exportCustomer(ctx, { companyId: salonId, customerId: ref.customerId, actor: 'test' }));
    expect(text).toContain('Berta Blindindex');
    expect(text).toContain('berta@example.com');
    expect(text).toContain(caller);
    expect(text).not.toContain('v1:');
  });

  it('a customer stored before BLIND_INDEX_KEY (plain index) is found and re-indexed, not duplicated', async () => {
    const caller = newCaller();
    const db = ctx.database.db;
    const [res] = await db.insert(customers).values({ companyId: salonId, phone: caller, phoneIndex: caller, name: 'Alt Bestand' });
    const id = Number(res.insertId);
    expect((await findCustomer(db, { company: 'salon-anna', phone: caller })).customerId).toBe(id);
    await deliver(retellEvent('call_ended', { callId: callId(), from: caller, to: SALON_NUMBER }));
    const rows = await db.select().from(customers).where(eq(customers.companyId, salonId));
    const mine = rows.filter((r) => openPii(ctx.cipher, r.phone) === caller);
    expect(mine.map((r) => r.id)).toEqual([id]);
    expect(mine[0]!.phoneIndex).toBe(phoneIndex(salonId, caller));
  });

  it('with the key set, a webhook takes one statement more (the look for a plain-indexed row) and builds none at run time', async () => {
    await deliver(retellEvent('call_ended', { callId: callId(), from: newCaller(), to: CLINIC_NUMBER })); // warm: catalogue, first preparations
    const built = countBuiltStatements(ctx.database.db);
    try {
      const n0 = await statements();
      await deliver(retellEvent('call_ended', { callId: callId(), from: newCaller(), to: CLINIC_NUMBER }));
      expect((await statements()) - n0).toBe(4); // the look, customer, call, inbox
      expect(built.count()).toBe(0);
    } finally {
      built.stop();
    }
  });

  it('seals the collected variables (they hold the name) and opens them again', async () => {
    const id = callId();
    await deliver(retellEvent('call_ended', { callId: id, from: newCaller(), to: SALON_NUMBER, vars: { customer_name: 'Vera Variable' } }));
    const [row] = await ctx.database.db.select().from(calls).where(eq(calls.retellCallId, id));
    expect(isSealedJson(row!.dynamicVariables)).toBe(true);
    expect(JSON.stringify(row!.dynamicVariables)).not.toContain('Vera');
    expect(openJson(row!.dynamicVariables)).toMatchObject({ customer_name: 'Vera Variable' });
  });
});

describe('database dump', () => {
  it('holds no plaintext API key, and no plaintext name, phone or transcript of an encrypting company', async () => {
    const secretCaller = newCaller();
    const plainCaller = newCaller();
    await deliver(retellEvent('call_analyzed', { callId: callId(), from: secretCaller, to: SALON_NUMBER, vars: { customer_name: 'Greta Geheimnis' }, transcript: 'User: Hier spricht Greta, streng vertraulich.' }));
    await deliver(retellEvent('call_analyzed', { callId: callId(), from: plainCaller, to: CLINIC_NUMBER, vars: { customer_name: 'Otto Offen' }, transcript: 'User: Otto here, nothing to hide.' }));
    const u = new URL(MYSQL_ROOT);
    const args = ['-h', u.hostname, '-P', u.port || '3306', `-u${decodeURIComponent(u.username || 'root')}`, ...(u.password ? [`-p${decodeURIComponent(u.password)}`] : []), '--skip-extended-insert', env.dbName];
    const { stdout: dump } = await run('mariadb-dump', args, { maxBuffer: 256 * 1024 * 1024 });
    expect(dump).toContain('CREATE TABLE `customers`');
    // Secrets: never in clear, whatever the company's PII setting.
    expect(dump).not.toContain('cal_test_salon_key');
    expect(dump).not.toContain('cal_test_clinic_key');
    // The encrypting company's caller: name, number, words.
    expect(dump).not.toContain('Greta');
    expect(dump).not.toContain(secretCaller);
    expect(dump).not.toContain(secretCaller.slice(1));
    expect(dump).not.toContain('streng vertraulich');
    // The other company stores in clear: proves the scan sees what is there.
    expect(dump).toContain('Otto Offen');
    expect(dump).toContain(plainCaller);
    expect(dump).toContain('nothing to hide');
  }, 60_000);
});

describe('keys rotate', () => {
  it('moves every value to the new key while writers keep inserting and updating, losing nothing', async () => {
    const db = () => ctx.database.db;
    // Under key A: calls (call_started only) from many callers to both companies.
    const seeded: Array<{ id: string; caller: string; to: string }> = [];
    for (let i = 0; i < 40; i++) {
      const s = { id: callId(), caller: newCaller(), to: i % 4 === 0 ? CLINIC_NUMBER : SALON_NUMBER };
      seeded.push(s);
      await deliver(retellEvent('call_started', { callId: s.id, from: s.caller, to: s.to, vars: { customer_name: `Seed ${i}` } }));
    }
    // A plaintext row of the encrypting company (written before it switched encryption on).
    await db().insert(customers).values({ companyId: salonId, phone: '+4917299999999', phoneIndex: '+4917299999999', name: 'Legacy Klartext' });

    // Switch to key B, A kept for decryption: a new context, as after a restart with the new env.
    const vars = { ...env.vars, ENCRYPTION_KEY: KEY_B, ENCRYPTION_KEYS_PREVIOUS: KEY_A };
    const cfg = loadConfig(vars);
    ctx = createContext(cfg, createLogger('silent'));
    const keyB = ctx.cipher.keyId;
    const keyA = new Keyring(KEY_A).keyId;

    // Writers: new calls (inserts), the seeded calls' later events (updates of the same rows the
    // rotation rewrites), and customer updates, all while rotate runs in batches of 5.
    let stop = false;
    const fresh: Array<{ id: string; caller: string; to: string }> = [];
    const writer = (async () => {
      let i = 0;
      while (!stop || i < seeded.length) {
        const s = seeded[i % seeded.length]!;
        if (i < seeded.length) {
          await deliver(retellEvent('call_analyzed', { callId: s.id, from: s.caller, to: s.to, vars: { customer_name: `Seed ${i}` }, transcript: `User: updated words ${i}` }));
        }
        const n = { id: callId(), caller: newCaller(), to: i % 3 === 0 ? CLINIC_NUMBER : SALON_NUMBER };
        fresh.push(n);
        await deliver(retellEvent('call_ended', { callId: n.id, from: n.caller, to: n.to, vars: { customer_name: `Fresh ${i}` } }));
        await upsertCustomer(db(), s.to === SALON_NUMBER ? salonId : clinicId, s.caller, `Renamed ${i}`);
        i++;
      }
    })();
    const counts = await rotateKeys(db(), ctx.cipher, { batch: 5, actor: 'test' });
    stop = true;
    await writer;
    // A second pass picks up anything a concurrent write kept changing (normally nothing).
    const again = await rotateKeys(db(), ctx.cipher, { batch: 5, actor: 'test' });
    expect(counts.customers + counts.calls).toBeGreaterThan(0);
    expect(again.skipped).toBe(0);
    // With BLIND_INDEX_KEY set rotate also retired the plain phone index (test/plain-index.test.ts).
    expect(again).toMatchObject({ plainIndex: 'retired', plainLeft: 0 });

    // Nothing lost: one customer per distinct (company, caller), one call per call id.
    const allCalls = await db().select().from(calls);
    const allCustomers = await db().select().from(customers);
    for (const s of [...seeded, ...fresh]) expect(allCalls.some((c) => c.retellCallId === s.id), s.id).toBe(true);
    const callerKeys = new Set([...seeded, ...fresh].map((s) => `${s.to === SALON_NUMBER ? salonId : clinicId}:${s.caller}`));
    const stored = new Set(allCustomers.filter((c) => c.erasedAt === null).map((c) => `${c.companyId}:${openPii(ctx.cipher, c.phone)}`));
    for (const k of callerKeys) expect(stored.has(k), k).toBe(true);
    expect(allCustomers.length).toBe(new Set(allCustomers.map((c) => `${c.companyId}:${c.phoneIndex}`)).size);
    // The seeded calls' updates survived the rotation.
    for (const s of seeded) {
      const c = allCalls.find((r) => r.retellCallId === s.id)!;
      expect(openPii(ctx.cipher, c.transcript)).toMatch(/^User: updated words \d+$/);
    }

    // Every ciphertext is B's and decrypts; the encrypting company has no plaintext left; the
    // blind indexes are all filled.
    const values: Array<{ company: number; v: string | null }> = [
      ...allCustomers.flatMap((c) => [c.name, c.email, c.phone.startsWith('erased-') ? null : c.phone].map((v) => ({ company: c.companyId, v }))),
      ...allCalls.flatMap((c) => [c.fromNumber, c.toNumber, c.transcript, c.summary, c.recordingUrl].map((v) => ({ company: c.companyId, v }))),
      ...allCalls.flatMap((c) => [c.dynamicVariables, c.analysisData].map((j) => ({ company: c.companyId, v: j && isSealedJson(j) ? j.$pii : j ? JSON.stringify(j) : null }))),
    ];
    for (const { company, v } of values) {
      if (v === null) continue;
      if (company === salonId) expect(isCiphertext(v), v.slice(0, 40)).toBe(true);
      if (isCiphertext(v)) {
        expect(ciphertextKeyId(v)).toBe(keyB);
        expect(() => openPii(ctx.cipher, v)).not.toThrow();
      }
    }
    expect(values.some(({ v }) => v !== null && ciphertextKeyId(v) === keyA)).toBe(false);
    for (const c of allCustomers) expect(c.phoneIndex).toBe(c.erasedAt ? `erased-${c.id}` : phoneIndex(c.companyId, openPii(ctx.cipher, c.phone)));
    const legacy = allCustomers.find((c) => c.companyId === salonId && openPii(ctx.cipher, c.name) === 'Legacy Klartext')!;
    expect(isCiphertext(legacy.phone)).toBe(true);

    // Company secrets too: B's key id, still the same key.
    const [salon] = await db().select().from(companies).where(eq(companies.id, salonId));
    expect(ciphertextKeyId(salon!.calcomApiKeyEnc!)).toBe(keyB);
    expect(ctx.cipher.decrypt(salon!.calcomApiKeyEnc!)).toBe('cal_test_salon_key');
    // Without A the data still opens: nothing needs the old key any more.
    const onlyB = new Keyring(KEY_B);
    for (const { v } of values) if (v !== null && isCiphertext(v)) onlyB.decrypt(v);
  }, 120_000);
});
