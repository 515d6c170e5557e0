import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Twilio's request signature (https://www.twilio.com/docs/usage/security#validating-requests):
 * base64 HMAC-SHA1, keyed with the account's auth token, over the full URL Twilio called followed by
 * every POST parameter as name+value, sorted by name (a repeated name: its distinct values, sorted).
 */
export function twilioSignature(authToken: string, url: string, params: URLSearchParams): string {
  const byName = new Map<string, Set<string>>();
  for (const [name, value] of params) {
    let values = byName.get(name);
    if (!values) {
      values = new Set();
      byName.set(name, values);
    }
    values.add(value);
  }
  let data = url;
  for (const name of [...byName.keys()].sort()) {
    for (const value of [...(byName.get(name) ?? [])].sort()) {
      data += name + value;
    }
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * Whether `header` is Twilio's signature of this request. Twilio signs the URL as configured, and
 * its own libraries accept it with and without the default port (Twilio is not consistent about
 * it), so both forms are tried. Compared in constant time.
 */
export function validTwilioSignature(
  authToken: string,
  header: string | undefined,
  url: string,
  params: URLSearchParams
): boolean {
  if (!header) {
    return false;
  }
  const given = Buffer.from(header, 'utf8');
  let valid = false;
  for (const form of urlForms(url)) {
    const expected = Buffer.from(twilioSignature(authToken, form, params), 'utf8');
    // Every form is checked, so the time taken does not tell which one (or whether one) matched.
    valid = (given.length === expected.length && timingSafeEqual(given, expected)) || valid;
  }
  return valid;
}

function urlForms(url: string): string[] {
  const parsed = new URL(url);
  const defaultPort = parsed.protocol === 'https:' ? '443' : '80';
  const port = parsed.port || defaultPort;
  const rest = `${parsed.pathname}${parsed.search}`;
  const withPort = `${parsed.protocol}//${parsed.hostname}:${port}${rest}`;
  const withoutPort = `${parsed.protocol}//${parsed.hostname}${rest}`;
  // A non-default port is part of the URL Twilio calls: it cannot be left out.
  return parsed.port && parsed.port !== defaultPort ? [withPort] : [withoutPort, withPort];
}
