/**
 * AES-256-GCM for secrets at rest (company API keys, webhook secrets). The ciphertext carries a
 * version and key id so keys can be rotated later without guessing which key encrypted a value.
 * Format: `v1:<keyId>:<iv b64>:<tag b64>:<ciphertext b64>`.
 */
import { createCipheriv, createDecipheriv, createHash, randomFillSync, timingSafeEqual } from 'node:crypto';

/** The key id of a 32-byte key: a short fingerprint, not the key. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

// A fresh random 96-bit IV per encryption, drawn from the CSPRNG in batches: one
// randomFillSync per 256 IVs instead of one per IV (bench/ingress profiled randomBytes at ~4 %
// of the ingress's CPU). Every IV is still used once; createCipheriv copies it.
const IV_BYTES = 12;
const ivPool = Buffer.alloc(IV_BYTES * 256);
let ivOffset = ivPool.length;

function nextIv(): Buffer {
  if (ivOffset >= ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

function parseKey(base64Key: string): Buffer {
  const key = Buffer.from(base64Key, 'base64');
  if (key.length !== 32) throw new Error(`encryption key must be 32 bytes, got ${key.length}`);
  return key;
}

const CT = /^v1:[0-9a-f]{8}:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]*$/;

/** True when `value` has the shape of a callbook ciphertext (`v1:<keyId>:iv:tag:ct`). */
export function isCiphertext(value: string): boolean {
  return CT.test(value);
}

/** The key id inside a ciphertext, or null when `value` is not one. */
export function ciphertextKeyId(value: string): string | null {
  return isCiphertext(value) ? value.split(':')[1]! : null;
}

/**
 * A keyring: encrypts with the current key (ENCRYPTION_KEY) and decrypts with any key it holds
 * (the current one and ENCRYPTION_KEYS_PREVIOUS), picked by the key id inside the ciphertext.
 * `Cipher` is the same class under its old name, so existing callers (ctx.cipher) keep working.
 */
export class Keyring {
  readonly keyId: string;
  private readonly key: Buffer;
  private readonly keys = new Map<string, Buffer>();

  constructor(base64Key: string, previous: readonly string[] = []) {
    this.key = parseKey(base64Key);
    this.keyId = keyIdOf(this.key);
    this.keys.set(this.keyId, this.key);
    for (const p of previous) {
      const k = parseKey(p);
      const id = keyIdOf(k);
      if (!this.keys.has(id)) this.keys.set(id, k);
    }
  }

  /** Key ids this keyring can decrypt, the current one first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  encrypt(plaintext: string): string {
    const iv = nextIv();
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', this.keyId, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
  }

  decrypt(token: string): string {
    const parts = token.split(':');
    if (parts.length !== 5 || parts[0] !== 'v1') throw new Error('not a callbook ciphertext');
    const [, keyId, iv, tag, body] = parts as [string, string, string, string, string];
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`ciphertext was made with key ${keyId}, which is neither the current key (${this.keyId}) nor in ENCRYPTION_KEYS_PREVIOUS`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }

  /** True when `token` is a ciphertext made with a key other than the current one. */
  needsRotation(token: string): boolean {
    const id = ciphertextKeyId(token);
    return id !== null && id !== this.keyId;
  }
}

/** The old name: every existing `new Cipher(key)` / `ctx.cipher` is a keyring with no previous keys. */
export const Cipher = Keyring;
export type Cipher = Keyring;

/** Constant-time string comparison for tokens. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
