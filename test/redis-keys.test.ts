/**
 * Every Redis key callbook writes is named in lib/redis/keys.ts: no other module may spell one
 * (a string or template literal starting with a key family's head). Comments may.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redisKeys, sameSlotKey } from '../lib/redis/keys';

const ROOTS = ['lib', 'apps', 'workers'];
const REGISTRY = join('lib', 'redis', 'keys.ts');
const HEADS = /[`'"](?:mcp|ratelimit|auth|metrics|events|replay):[a-z_]/;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

/** Not keys: audit actors of the MCP endpoint (lib/mcp/tool.ts). */
const NOT_KEYS = /'mcp:admin'|`mcp:token:/g;
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '').replace(/\s\/\/ .*$/gm, '').replace(NOT_KEYS, '');

describe('Redis key registry', () => {
  it('no module outside lib/redis/keys.ts builds a callbook key by hand', () => {
    const offenders = ROOTS.flatMap(sources)
      .filter((p) => p !== REGISTRY)
      .flatMap((p) => code(readFileSync(p, 'utf8')).split('\n').filter((l) => HEADS.test(l)).map((l) => `${p}: ${l.trim()}`));
    expect(offenders).toEqual([]);
  });

  it('the registry itself spells them (the check above looks for the right thing)', () => {
    expect(HEADS.test(code(readFileSync(REGISTRY, 'utf8')))).toBe(true);
    expect(redisKeys.bookingLock('k')).toBe('mcp:calcom:booking-lock:k');
    expect(redisKeys.retellAgents(null)).toBe('mcp:retell:agents:global');
    expect(redisKeys.rateLimit('company', 7, 29_000_000)).toBe('ratelimit:company:7:29000000');
  });

  it('a key beside another keeps its Redis Cluster slot: an existing hash tag stays, a key without one becomes its own', () => {
    expect(sameSlotKey('cb:mcp:calcom:ratelimit:ab12', ':turns')).toBe('{cb:mcp:calcom:ratelimit:ab12}:turns');
    expect(sameSlotKey('{cb}:mcp:calcom:ratelimit:ab12', ':turns')).toBe('{cb}:mcp:calcom:ratelimit:ab12:turns');
    // An empty tag is no tag, and wrapping a key with braces in it would change its tag: refused.
    expect(() => sameSlotKey('{}cb:x', ':turns')).toThrow(/braces but no hash tag/);
    expect(() => sameSlotKey('a}b:x', ':turns')).toThrow(/braces but no hash tag/);
    expect(redisKeys.calcomRateLimitTurns('cb:mcp:calcom:ratelimit:ab12')).toBe('{cb:mcp:calcom:ratelimit:ab12}:turns');
  });
});
