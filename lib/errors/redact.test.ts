import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { describeError, maskAddresses, MAX_REASON_CHARS, MAX_STACK_FRAMES, redactText, scrubError } from './redact';

describe('redactText', () => {
  it("withholds drizzle's params, wherever the message is embedded", () => {
    const drizzle = 'Failed query: insert into `calls` (`a`, `b`) values (?, ?)\nparams: +4917012345678,Anna sagt: at home\n    at fake';
    expect(redactText(`gave up after 3 attempts: ${drizzle}`)).toBe('gave up after 3 attempts: database error in insert calls (values withheld)');
  });

  it('withholds values MySQL 8 and MariaDB quote, keeps columns and keys', () => {
    expect(redactText("Duplicate entry '7-+4917012345678' for key 'customers.customers_company_phone_index_uq'")).toBe(
      "Duplicate entry '[redacted]' for key 'customers.customers_company_phone_index_uq'",
    );
    expect(redactText("Incorrect datetime value: 'morgen um 11' for column 'start_at' at row 1")).toBe("Incorrect datetime value: '[redacted]' for column 'start_at' at row 1");
    expect(redactText("Truncated incorrect DOUBLE value: 'Anna'")).toBe("Truncated incorrect DOUBLE value: '[redacted]'");
    expect(redactText('Invalid JSON text: "Missing a name" at position 3 in value for column \'calls.variables\'.')).toBe(
      'Invalid JSON text: "[redacted]" at position 3 in value for column \'calls.variables\'.',
    );
  });

  it('masks e-mail addresses, not the numbers callbook names on purpose, and caps the length', () => {
    expect(redactText('unknown number +4930111111; reply to anna.schmidt@example.com')).toBe('unknown number +4930111111; reply to a***@example.com');
    expect(redactText('x'.repeat(5_000))).toHaveLength(MAX_REASON_CHARS);
    expect(maskAddresses('SMS to +49 170 1234 5678 refused', { phones: true })).toBe('SMS to +49********678 refused');
  });
});

describe('scrubError', () => {
  it('keeps class and name, replaces message and stack (frames only, capped), drops params; idempotent', () => {
    const err = Object.assign(new UnrecoverableError('Failed query: update `appointments` set `x` = ?\nparams: Anna,    at home'), { params: ['Anna'] });
    const stackBefore = err.stack!;
    expect(stackBefore).toContain('Anna');
    const scrubbed = scrubError(err);
    expect(scrubbed).toBe(err);
    expect(scrubbed).toBeInstanceOf(UnrecoverableError);
    expect(scrubbed.message).toBe('database error in update appointments (values withheld)');
    expect(scrubbed.stack!.split('\n')[0]).toBe('UnrecoverableError: database error in update appointments (values withheld)');
    expect(scrubbed.stack).not.toContain('Anna');
    expect(scrubbed.stack!.split('\n').length).toBeLessThanOrEqual(MAX_STACK_FRAMES + 1);
    expect(scrubbed).not.toHaveProperty('params');
    expect(scrubError(scrubbed).message).toBe(scrubbed.message);
  });

  it('turns a thrown non-Error into an Error with a described message', () => {
    expect(scrubError('plain text from anna@example.com').message).toBe('plain text from a***@example.com');
    expect(describeError({ code: 'X' })).toBe('{"code":"X"}');
  });
});
