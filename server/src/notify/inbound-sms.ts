import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { AuditWriter } from '../audit/audit-writer';
import { sql } from '../db/sql';
import type { HaleRepository } from '../storage/repository';
import { escapeHtml } from './templates';
import { toE164 } from './phone';
import type { SmsConsent } from './sms-opt-out';
import { applySmsConsent } from './sms-opt-out';

/** Twilio's Advanced Opt-Out keywords (its defaults); the carriers expect exactly these. */
const KEYWORDS: Readonly<Record<string, SmsConsent | 'help'>> = {
  STOP: 'opt-out',
  STOPALL: 'opt-out',
  UNSUBSCRIBE: 'opt-out',
  CANCEL: 'opt-out',
  END: 'opt-out',
  QUIT: 'opt-out',
  START: 'opt-in',
  YES: 'opt-in',
  UNSTOP: 'opt-in',
  HELP: 'help',
  INFO: 'help',
};

/**
 * The keyword a message is, if it is one: the whole message, in any case, with surrounding spaces
 * and punctuation ("Stop.", " stop!") forgiven, as Twilio matches them. "Please stop" is no keyword.
 */
export function keywordOf(body: string): string | undefined {
  const word = body
    .trim()
    .replace(/^[\p{P}\s]+|[\p{P}\s]+$/gu, '')
    .toUpperCase();
  return Object.hasOwn(KEYWORDS, word) ? word : undefined;
}

export interface InboundSmsDeps {
  systemRepository(): HaleRepository;
  audit: AuditWriter;
  serverUrl: string;
}

/** Twilio's message ids: two letters and 32 hex digits; anything of that shape and size is kept. */
const MESSAGE_SID = /^[A-Za-z0-9]{2,64}$/;

/**
 * Handles one inbound message (already known to come from Twilio) and returns the TwiML answer.
 * The MessageSid is recorded in the same transaction as the opt-out, the preferences and the
 * AuditEvent, so a message Twilio retries is acted on exactly once, and one that failed half-way
 * is acted on again in full.
 */
export async function handleInboundSms(deps: InboundSmsDeps, params: URLSearchParams): Promise<string> {
  const sid = params.get('MessageSid') ?? params.get('SmsSid') ?? '';
  if (!MESSAGE_SID.test(sid)) {
    throw new OperationOutcomeError(badRequest('MessageSid is missing or malformed'));
  }
  const fromRaw = (params.get('From') ?? '').slice(0, 64);
  const phone = toE164(fromRaw);
  const keyword = keywordOf(params.get('Body') ?? '');
  const action = keyword ? KEYWORDS[keyword] : undefined;
  const reply = await deps.systemRepository().withTransaction(async (tx) => {
    const fresh = await tx.queryable.query(
      sql`INSERT INTO sms_inbound (message_sid, from_number, keyword) VALUES (${sid}, ${phone ?? fromRaw}, ${keyword ?? null})
        ON CONFLICT (message_sid) DO NOTHING RETURNING message_sid`
    );
    // A retried message was answered the first time; a second HELP reply would be a second text.
    if (fresh.length === 0 || !keyword || !action) {
      return undefined;
    }
    if (action === 'help') {
      return helpText(deps.serverUrl);
    }
    // Not an SMS number (e.g. a whatsapp: address): nothing Hale texts to, nothing to change.
    if (!phone) {
      return undefined;
    }
    const events = await applySmsConsent(tx, {
      consent: action,
      phone,
      keyword,
      messageSid: sid,
      site: deps.serverUrl,
    });
    tx.bufferWrites(deps.audit.prepareIn(events));
    return undefined;
  });
  return twiml(reply);
}

/** What HELP answers: who is texting and how to stop (carriers require both). */
export function helpText(serverUrl: string): string {
  const host = new URL(serverUrl).hostname;
  return (
    `Hale health record notifications (${host}). ` +
    'Reply STOP to stop texts, START to receive them again. Msg & data rates may apply.'
  );
}

/** A TwiML answer: one reply message, or none (`<Response/>`). */
export function twiml(message: string | undefined): string {
  const body = message === undefined ? '<Response/>' : `<Response><Message>${escapeHtml(message)}</Message></Response>`;
  return `<?xml version="1.0" encoding="UTF-8"?>${body}`;
}
