import { OperationOutcomeError, badRequest } from '@medplum/core';

/** A bot's mail, checked: Medplum's `MailOptions` as far as Hale sends it. */
export interface BotMail {
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  text?: string;
  html?: string;
}

/** Recipients of one mail, To, Cc and Bcc together: a bot writes to a person, not to a mailing list. */
export const MAX_RECIPIENTS = 50;
/** text and html together, in UTF-8 bytes. */
export const MAX_MAIL_BODY_BYTES = 512 * 1024;
/** RFC 5322's line limit; a subject is one header line before folding. */
const MAX_SUBJECT_CHARS = 998;

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN = /^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** A plain address `local@domain.tld` (no display name, no quoted local part, no IP literal). */
export function isMailAddress(value: string): boolean {
  const at = value.lastIndexOf('@');
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  return at > 0 && value.length <= 254 && local.length <= 64 && LOCAL_PART.test(local) && DOMAIN.test(domain);
}

const invalid = (text: string): OperationOutcomeError => new OperationOutcomeError(badRequest(text));

/**
 * Reads Medplum's `MailOptions` (`medplum.sendEmail`). `from`, `sender` and `replyTo` are ignored:
 * Hale sends as MAIL_FROM, so a token that may mail cannot mail as somebody else. Attachments and
 * calendar events are refused rather than silently dropped.
 */
export function parseMailRequest(body: unknown): BotMail {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || body instanceof URLSearchParams) {
    throw invalid('Send the mail as a JSON object (application/json)');
  }
  const b = body as Record<string, unknown>;
  for (const unsupported of ['attachments', 'icalEvent']) {
    if (b[unsupported] !== undefined) {
      throw invalid(`'${unsupported}' is not supported by Hale's email API`);
    }
  }
  const to = recipients(b.to, 'to');
  const cc = recipients(b.cc, 'cc');
  const bcc = recipients(b.bcc, 'bcc');
  if (to.length === 0) {
    throw invalid("'to' is required");
  }
  if (to.length + cc.length + bcc.length > MAX_RECIPIENTS) {
    throw invalid(`A mail may have at most ${MAX_RECIPIENTS} recipients (to, cc and bcc together)`);
  }
  const subject = optionalString(b.subject, 'subject')?.trim() ?? '';
  if (subject === '') {
    throw invalid("'subject' is required");
  }
  if (subject.length > MAX_SUBJECT_CHARS || /[\u0000-\u001f\u007f]/.test(subject)) {
    throw invalid(`'subject' must be one line of at most ${MAX_SUBJECT_CHARS} characters`);
  }
  const text = optionalString(b.text, 'text');
  const html = optionalString(b.html, 'html');
  if (!text && !html) {
    throw invalid("'text' or 'html' is required");
  }
  if (Buffer.byteLength(text ?? '') + Buffer.byteLength(html ?? '') > MAX_MAIL_BODY_BYTES) {
    throw invalid(`'text' and 'html' together may be at most ${MAX_MAIL_BODY_BYTES} bytes`);
  }
  return { to, cc, bcc, subject, ...(text ? { text } : {}), ...(html ? { html } : {}) };
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw invalid(`'${field}' must be a string`);
  }
  return value;
}

/**
 * Medplum's `MailDestination`: an address, a comma-separated list, a `{ name, address }` object,
 * or an array of these. Display names are not used (the mail goes to the bare address).
 */
function recipients(value: unknown, field: string): string[] {
  if (value === undefined || value === null) {
    return [];
  }
  const items = Array.isArray(value) ? (value as unknown[]) : [value];
  const out: string[] = [];
  for (const item of items) {
    const addresses =
      typeof item === 'string'
        ? item.split(',').filter((a) => a.trim() !== '')
        : typeof item === 'object' && item !== null && typeof (item as { address?: unknown }).address === 'string'
          ? [(item as { address: string }).address]
          : undefined;
    if (!addresses) {
      throw invalid(`'${field}' must be an address, a list of addresses or { name, address } objects`);
    }
    for (const raw of addresses) {
      const address = raw.trim();
      if (!isMailAddress(address)) {
        throw invalid(`'${field}' holds an invalid email address: ${JSON.stringify(address.slice(0, 100))}`);
      }
      out.push(address);
    }
    if (out.length > MAX_RECIPIENTS) {
      break; // reported by the caller; no need to read a list of thousands
    }
  }
  return out;
}
