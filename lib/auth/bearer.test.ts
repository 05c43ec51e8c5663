import { describe, expect, it } from 'vitest';
import { AuthGate, credentialFromHeader, credentialOf, LoginThrottle, seesRow } from './bearer';
import type { Principal } from './tokens';

const req = (headers: Record<string, string>, query: Record<string, string> = {}) => ({
  header: (n: string) => headers[n.toLowerCase()],
  query: (n: string) => query[n],
});

describe('credentials', () => {
  it('reads Bearer, the basic-auth password, and ?token= only where allowed', () => {
    expect(credentialFromHeader('Bearer abc')).toBe('abc');
    expect(credentialFromHeader('bearer   abc  ')).toBe('abc');
    expect(credentialFromHeader(`Basic ${Buffer.from('ops:s3cret:x').toString('base64')}`)).toBe('s3cret:x');
    for (const bad of ['Bearer ', 'Token abc', 'Bearer a b', `Basic ${Buffer.from('nocolon').toString('base64')}`, `Basic ${Buffer.from('ops:').toString('base64')}`]) {
      expect(credentialFromHeader(bad), bad).toBeUndefined();
    }
    expect(credentialOf(req({}, { token: 't' }))).toBeUndefined();
    expect(credentialOf(req({}, { token: 't' }), { query: true })).toBe('t');
    // A header wins over the query (a link carrying someone's token does not override yours).
    expect(credentialOf(req({ authorization: 'Bearer h' }, { token: 't' }), { query: true })).toBe('h');
  });
});

describe('the gate', () => {
  it('refuses a locked-out address before looking at its credential; other addresses and missing tokens do not count', async () => {
    const looked: string[] = [];
    const gate = new AuthGate(async (t) => (looked.push(t), t === 'right' ? { kind: 'admin' } : null), new LoginThrottle(2));
    expect(await gate.check('a', undefined)).toMatchObject({ ok: false, status: 401 });
    expect(await gate.check('a', 'wrong1')).toMatchObject({ ok: false, status: 401 });
    expect(await gate.check('a', 'wrong2')).toMatchObject({ ok: false, status: 401 });
    expect(await gate.check('a', 'right')).toMatchObject({ ok: false, status: 429, retryAfter: expect.any(Number) });
    expect(looked).toEqual(['wrong1', 'wrong2']);
    expect(await gate.check('b', 'right')).toMatchObject({ ok: true, principal: { kind: 'admin' } });
  });

  it('a token in use passes a lockout of its address; a token never used there, or a guess, does not', async () => {
    const valid = new Set(['in-use', 'fresh']);
    const gate = new AuthGate(async (t) => (valid.has(t) ? { kind: 'admin' } : null), new LoginThrottle(2));
    expect((await gate.check('office', 'in-use')).ok).toBe(true);
    await gate.check('office', 'guess1');
    await gate.check('office', 'guess2');
    expect((await gate.check('office', 'in-use')).ok).toBe(true);
    expect(await gate.check('office', 'fresh')).toMatchObject({ ok: false, status: 429 });
    expect(await gate.check('office', 'guess3')).toMatchObject({ ok: false, status: 429 });
    // Revoked meanwhile: refused, and it no longer passes the lockout.
    valid.delete('in-use');
    expect(await gate.check('office', 'in-use')).toMatchObject({ ok: false, status: 401 });
    expect(await gate.check('office', 'in-use')).toMatchObject({ ok: false, status: 429 });
  });

  it('the window ends', async () => {
    let now = 0;
    const gate = new AuthGate(async (t) => (t === 'right' ? { kind: 'admin' } : null), new LoginThrottle(1, 60_000, () => now));
    await gate.check('a', 'wrong');
    expect((await gate.check('a', 'right')).ok).toBe(false);
    now = 60_001;
    expect((await gate.check('a', 'right')).ok).toBe(true);
  });
});

describe('the scope rule', () => {
  const company: Principal = { kind: 'scoped', tokenId: 1, companyId: 7, branchId: null, name: 'c' };
  const branch: Principal = { kind: 'scoped', tokenId: 2, companyId: 7, branchId: 3, name: 'b' };
  it('admin everything, a company token its company, a branch token only its branch (not company-wide rows)', () => {
    expect(seesRow({ kind: 'admin' }, 9, null)).toBe(true);
    expect(seesRow(company, 7, 4)).toBe(true);
    expect(seesRow(company, 7, null)).toBe(true);
    expect(seesRow(company, 8, 3)).toBe(false);
    expect(seesRow(branch, 7, 3)).toBe(true);
    expect(seesRow(branch, 7, 4)).toBe(false);
    expect(seesRow(branch, 7, null)).toBe(false);
    expect(seesRow(branch, 8, 3)).toBe(false);
  });
});
