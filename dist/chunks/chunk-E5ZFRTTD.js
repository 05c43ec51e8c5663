// lib/crypto/index.ts
import { createCipheriv, createDecipheriv, createHash, randomFillSync, timingSafeEqual } from "node:crypto";
function keyIdOf(key) {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}
var IV_BYTES = 12;
var ivPool = Buffer.alloc(IV_BYTES * 256);
var ivOffset = ivPool.length;
function nextIv() {
  if (ivOffset >= ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}
function parseKey(base64Key) {
  const key = Buffer.from(base64Key, "base64");
  if (key.length !== 32) throw new Error(`encryption key must be 32 bytes, got ${key.length}`);
  return key;
}
var CT = /^v1:[0-9a-f]{8}:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]*$/;
function isCiphertext(value) {
  return CT.test(value);
}
function ciphertextKeyId(value) {
  return isCiphertext(value) ? value.split(":")[1] : null;
}
var Keyring = class {
  keyId;
  key;
  keys = /* @__PURE__ */ new Map();
  constructor(base64Key, previous = []) {
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
  get keyIds() {
    return [...this.keys.keys()];
  }
  encrypt(plaintext) {
    const iv = nextIv();
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return ["v1", this.keyId, iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(":");
  }
  decrypt(token) {
    const parts = token.split(":");
    if (parts.length !== 5 || parts[0] !== "v1") throw new Error("not a callbook ciphertext");
    const [, keyId, iv, tag, body] = parts;
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`ciphertext was made with key ${keyId}, which is neither the current key (${this.keyId}) nor in ENCRYPTION_KEYS_PREVIOUS`);
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
  }
  /** True when `token` is a ciphertext made with a key other than the current one. */
  needsRotation(token) {
    const id = ciphertextKeyId(token);
    return id !== null && id !== this.keyId;
  }
};
var Cipher = Keyring;
function safeEqual(a, b) {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

export {
  isCiphertext,
  Cipher,
  safeEqual
};
//# sourceMappingURL=chunk-E5ZFRTTD.js.map
