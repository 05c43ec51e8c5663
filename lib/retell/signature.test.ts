import Retell from 'retell-sdk';
import { describe, expect, it } from 'vitest';
import { verifyRetellSignature } from './signature';

const key = 'key_test_8c1f0d6b7a';
const body = JSON.stringify({ event: 'call_ended', call: { call_id: 'c1', to_number: '+4930123456', text: 'Grüße 👋' } });

async function sdkVerify(b: string, k: string, h: string): Promise<boolean> {
  return Retell.verify(b, k, h);
}

describe('verifyRetellSignature', () => {
  it('accepts every body the official SDK signed', async () => {
    for (const b of [body, '{}', '', ' '.repeat(10), 'ä'.repeat(5000), JSON.stringify({ n: Math.random() })]) {
      const header = await Retell.sign(b, key);
      expect(verifyRetellSignature(Buffer.from(b, 'utf8'), key, header)).toBe('ok');
      expect(verifyRetellSignature(b, key, header)).toBe('ok');
    }
  });

  it('agrees with the SDK on tampered, stale, wrong-key and odd inputs', async () => {
    const now = Date.now();
    const good = await Retell.sign(body, key);
    const [, stamp, digest] = /^v=(\d+),d=([0-9a-f]+)$/.exec(good)!;
    const cases: Array<[string, string, string]> = [
      [body, key, good],
      [body + ' ', key, good], // tampered body
      [body.replace('c1', 'c2'), key, good],
      [body, 'other-key', good], // wrong key
      [body, key, `v=${now - 6 * 60 * 1000},d=${digest}`], // stale
      [body, key, `v=${now + 6 * 60 * 1000},d=${digest}`], // from the future
      [body, key, `V=${stamp},D=${digest!.toUpperCase()}`], // case: the SDK's regex is /i
      [body, key, `v=${stamp},d=${digest!.slice(0, 63)}`], // short digest
      [body, key, `v=${stamp},d=${digest}00`], // long digest
      [body, key, `v=0${stamp},d=${digest}`], // leading zero: SDK hashes Number(v)
      [body, key, `v=${stamp}, d=${digest}`], // space
      [body, key, `d=${digest},v=${stamp}`], // order
      [body, key, `v=abc,d=${digest}`],
      [body, key, `v=99999999999999999999,d=${digest}`], // unsafe integer
      [body, key, ''],
      [body, key, 'garbage'],
    ];
    for (const [b, k, h] of cases) {
      const sdk = await sdkVerify(b, k, h);
      const ours = verifyRetellSignature(Buffer.from(b, 'utf8'), k, h, Date.now()) === 'ok';
      expect({ h, ours }).toEqual({ h, ours: sdk });
    }
  });

  it('names the reason for a refusal', async () => {
    const good = await Retell.sign(body, key);
    expect(verifyRetellSignature(body, key, undefined)).toBe('missing');
    expect(verifyRetellSignature(body, key, 'v=1')).toBe('malformed');
    expect(verifyRetellSignature(body, key, good, Date.now() + 5 * 60 * 1000 + 1000)).toBe('stale');
    expect(verifyRetellSignature(body + 'x', key, good)).toBe('mismatch');
  });
});
