import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, reservedForCalls } from './index';

const good = {
  DATABASE_URL: 'mysql://root@127.0.0.1:3306/callbook',
  REDIS_URL: 'redis://127.0.0.1:6379',
  RETELL_API_KEY: 'key_x',
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  ADMIN_TOKEN: 'a-very-long-admin-token',
};

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig(good);
    expect(c.PORT).toBe(3000);
    expect(c.CALCOM_API_URL).toBe('https://api.cal.com/v2');
    expect(c.WEBHOOK_IP_ALLOWLIST).toBeUndefined();
  });

  it('names every bad or missing variable and what was expected', () => {
    try {
      loadConfig({ ...good, DATABASE_URL: 'postgres://x', ENCRYPTION_KEY: 'short', PORT: 'eighty', RETELL_API_KEY: undefined });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/DATABASE_URL is invalid: must be a mysql:\/\/ URL/);
      expect(msg).toMatch(/ENCRYPTION_KEY is invalid: must be 32 bytes/);
      expect(msg).toMatch(/PORT is invalid/);
      expect(msg).toMatch(/RETELL_API_KEY is missing/);
    }
  });

  it('refuses an SMTP_URL nodemailer could not read, naming the part and never the password', () => {
    expect(() => loadConfig({ ...good, SMTP_URL: 'smtp://mailer:50%off@mail.example.com:587' })).toThrow(/SMTP_URL is invalid: the password is not valid URL encoding/);
    expect(() => loadConfig({ ...good, SMTP_URL: 'smtp://mailer:50%off@mail.example.com:587' })).not.toThrow(/50%off/);
    expect(loadConfig({ ...good, SMTP_URL: 'smtp://mailer:50%25off@mail.example.com:587' }).SMTP_URL).toBe('smtp://mailer:50%25off@mail.example.com:587');
  });

  it('keeps a sixth of each Cal.com key\'s budget for live calls unless told, and refuses a reserve that leaves background work nothing', () => {
    expect(reservedForCalls(loadConfig(good))).toBe(20);
    expect(reservedForCalls(loadConfig({ ...good, CALCOM_RATE_LIMIT_PER_MINUTE: '5' }))).toBe(1);
    expect(reservedForCalls(loadConfig({ ...good, CALCOM_RATE_LIMIT_PER_MINUTE: '2' }))).toBe(1);
    expect(reservedForCalls(loadConfig({ ...good, CALCOM_RATE_LIMIT_PER_MINUTE: '1' }))).toBe(0);
    expect(reservedForCalls(loadConfig({ ...good, CALCOM_RATE_LIMIT_RESERVED_FOR_CALLS: '0' }))).toBe(0);
    expect(reservedForCalls(loadConfig({ ...good, CALCOM_RATE_LIMIT_RESERVED_FOR_CALLS: '119' }))).toBe(119);
    expect(() => loadConfig({ ...good, CALCOM_RATE_LIMIT_RESERVED_FOR_CALLS: '120' })).toThrow(/CALCOM_RATE_LIMIT_RESERVED_FOR_CALLS is invalid: must be below CALCOM_RATE_LIMIT_PER_MINUTE \(120\)/);
    expect(() => loadConfig({ ...good, CALCOM_RATE_LIMIT_RESERVED_FOR_CALLS: '-1' })).toThrow(/CALCOM_RATE_LIMIT_RESERVED_FOR_CALLS is invalid/);
    expect(() => loadConfig({ ...good, CALCOM_RATE_LIMIT_RESERVED_FOR_CALLS: 'some' })).toThrow(/CALCOM_RATE_LIMIT_RESERVED_FOR_CALLS is invalid/);
  });

  it('bounds CALCOM_TIMEOUT_MS at 30 s, naming why: the booking lock is held that long plus 8 s after a worker dies', () => {
    expect(loadConfig({ ...good, CALCOM_TIMEOUT_MS: '30000' }).CALCOM_TIMEOUT_MS).toBe(30_000);
    expect(() => loadConfig({ ...good, CALCOM_TIMEOUT_MS: '30001' })).toThrow(/CALCOM_TIMEOUT_MS is invalid: at most 30000 \(30 s\): the booking lock/);
    expect(() => loadConfig({ ...good, CALCOM_TIMEOUT_MS: '0' })).toThrow(/CALCOM_TIMEOUT_MS is invalid/);
  });

  it('takes braces in REDIS_PREFIX only as one hash tag with something inside', () => {
    expect(loadConfig({ ...good, REDIS_PREFIX: '{cb}' }).REDIS_PREFIX).toBe('{cb}');
    expect(loadConfig({ ...good, REDIS_PREFIX: 'app-{cb}_1' }).REDIS_PREFIX).toBe('app-{cb}_1');
    for (const bad of ['{}', 'a}b', '{}{t}', '{a}{b}', 'a{b']) {
      expect(() => loadConfig({ ...good, REDIS_PREFIX: bad }), bad).toThrow(/REDIS_PREFIX is invalid: braces only as one Redis Cluster hash tag/);
    }
  });

  it('treats an empty variable as unset', () => {
    const c = loadConfig({ ...good, SMTP_URL: '', PUBLIC_URL: '', PORT: '' });
    expect(c.SMTP_URL).toBeUndefined();
    expect(c.PORT).toBe(3000);
  });

  it('takes a Redis Cluster: REDIS_URL becomes optional, the nodes are checked', () => {
    const c = loadConfig({ ...good, REDIS_URL: undefined, REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001' });
    expect(c.REDIS_CLUSTER_NODES).toEqual(['10.0.0.1:7000', '10.0.0.2:7001']);
    expect(c.REDIS_URL).toBe('redis://10.0.0.1:7000');
    expect(loadConfig({ ...good, REDIS_CLUSTER_NODES: 'a:1' }).REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(() => loadConfig({ ...good, REDIS_CLUSTER_NODES: '10.0.0.1' })).toThrow(/REDIS_CLUSTER_NODES is invalid: must be comma-separated host:port/);
    expect(() => loadConfig({ ...good, REDIS_URL: undefined })).toThrow(/REDIS_URL is missing: .*REDIS_CLUSTER_NODES/);
  });

  it('splits the IP allowlist', () => {
    expect(loadConfig({ ...good, WEBHOOK_IP_ALLOWLIST: '100.20.5.228, 10.0.0.1' }).WEBHOOK_IP_ALLOWLIST).toEqual(['100.20.5.228', '10.0.0.1']);
  });

  it('reads TRUST_PROXY as a hop count, true as 1', () => {
    expect(loadConfig({ ...good }).TRUST_PROXY).toBe(0);
    expect(loadConfig({ ...good, TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(1);
    expect(loadConfig({ ...good, TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(() => loadConfig({ ...good, TRUST_PROXY: 'yes' })).toThrow(/TRUST_PROXY is invalid: must be the number of trusted proxy hops/);
  });

  it('names the replacement of the retired per-address webhook limit', () => {
    expect(() => loadConfig({ ...good, WEBHOOK_RATE_LIMIT_PER_MINUTE: '600' })).toThrow(/WEBHOOK_RATE_LIMIT_PER_MINUTE is no longer read: use RATE_LIMIT_AUTH_FAILURES_PER_MINUTE/);
  });
});
