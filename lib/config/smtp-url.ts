/**
 * SMTP_URL as nodemailer reads it: an smtp:// or smtps:// URL with a host, whose user and
 * password decode (a raw `%` in a password makes nodemailer throw "URI malformed" at its first
 * message). Checked when the configuration loads, and by the SMTP transport it is handed to.
 */

/** What is wrong with `url` (naming the part at fault, never the password), or null; worded to follow "SMTP_URL is invalid: ". */
export function smtpUrlProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL (expected smtp://user:pass@mail.example.com:587)';
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') return `must start with smtp:// or smtps://, not ${u.protocol}//`;
  if (!u.hostname) return 'no host (expected smtp://user:pass@mail.example.com:587)';
  for (const [part, value] of [['user name', u.username], ['password', u.password]] as const) {
    try {
      decodeURIComponent(value);
    } catch {
      return `the ${part} is not valid URL encoding (write a literal % as %25)`;
    }
  }
  return null;
}
