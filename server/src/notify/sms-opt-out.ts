import { parseSearchRequest } from '@medplum/core';
import type { AuditEvent, Basic, Coding, ContactPoint, Patient, Practitioner, RelatedPerson } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../access/consent/vocabulary';
import type { Queryable } from '../db/database';
import { sql } from '../db/sql';
import type { HaleRepository } from '../storage/repository';
import { newPreferences, preferencesQuery, withOptIn, withOptOut } from '../../../bots/src/lib/preferences';
import { toE164 } from './phone';

/** What a keyword asks for (Twilio's Advanced Opt-Out keywords, exact single words). */
export type SmsConsent = 'opt-out' | 'opt-in';

/** Identifies the inbound message an AuditEvent is about (its Twilio MessageSid). */
export const TWILIO_MESSAGE_SID_SYSTEM = `${HALE_FHIR}/sid/twilio-message-sid`;

/** People who may be texted: whose preferences a STOP or START from their number changes. */
const PERSON_TYPES = ['Patient', 'Practitioner', 'RelatedPerson'] as const;
/** More people than this sharing one number is not a household but a data error; the first ones are changed. */
const MAX_PEOPLE = 20;

export async function isSmsOptedOut(db: Queryable, phone: string): Promise<boolean> {
  const rows = await db.query(sql`SELECT 1 FROM sms_opt_out WHERE phone = ${phone}`);
  return rows.length > 0;
}

export interface SmsConsentChange {
  consent: SmsConsent;
  /** E.164. */
  phone: string;
  keyword: string;
  messageSid: string;
  /** Where the event is observed (the server's URL). */
  site: string;
}

/**
 * Applies STOP or START inside the caller's transaction: the number's row in sms_opt_out, then the
 * preferences Basic of everyone with that number (created when a STOP finds none; a START that
 * changes nothing writes nothing). Returns the AuditEvents to commit with it, one per person (or
 * one for the number when nobody has it).
 */
export async function applySmsConsent(tx: HaleRepository, change: SmsConsentChange): Promise<AuditEvent[]> {
  const { phone, consent } = change;
  // Two messages from one number at once (a STOP and a START) must not interleave their writes,
  // nor create two preferences resources for one person.
  await tx.queryable.query(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`sms-consent:${phone}`}, 0))`);
  await tx.queryable.query(
    consent === 'opt-out'
      ? sql`INSERT INTO sms_opt_out (phone) VALUES (${phone}) ON CONFLICT (phone) DO NOTHING`
      : sql`DELETE FROM sms_opt_out WHERE phone = ${phone}`
  );
  const now = new Date().toISOString();
  const people = await peopleWithNumber(tx, phone);
  const events: AuditEvent[] = [];
  for (const person of people) {
    const basic = await updatePreferences(tx, person, (b) =>
      consent === 'opt-out' ? withOptOut(b, 'sms', now) : withOptIn(b, 'sms')
    );
    events.push(smsConsentEvent(change, now, person, basic?.id));
  }
  return events.length > 0 ? events : [smsConsentEvent(change, now, undefined, undefined)];
}

/** References (`Patient/…`) of the people with this number as a phone or sms ContactPoint. */
async function peopleWithNumber(tx: HaleRepository, phone: string): Promise<string[]> {
  const found: string[] = [];
  for (const type of PERSON_TYPES) {
    // The token search finds the number as stored; the check below keeps phone/sms entries only.
    const matches = await tx.searchResources<Patient | Practitioner | RelatedPerson>(
      parseSearchRequest(`${type}?telecom=${encodeURIComponent(phone)}&_count=${MAX_PEOPLE}`)
    );
    for (const person of matches) {
      if ((person.telecom ?? []).some((t) => isNumber(t, phone)) && found.length < MAX_PEOPLE) {
        found.push(`${type}/${person.id}`);
      }
    }
  }
  return found;
}

function isNumber(t: ContactPoint, phone: string): boolean {
  return (t.system === 'phone' || t.system === 'sms') && t.value !== undefined && toE164(t.value) === phone;
}

/** bots/src/lib/preferences.ts's updatePreferences, on the server's repository. */
async function updatePreferences(
  tx: HaleRepository,
  subject: string,
  change: (basic: Basic) => Basic
): Promise<Basic | undefined> {
  const current = await tx.searchOne<Basic>(parseSearchRequest(`Basic?${preferencesQuery(subject)}`));
  const before = current ?? newPreferences({ reference: subject });
  const changed = change(before);
  if (JSON.stringify(changed) === JSON.stringify(before)) {
    return current;
  }
  return current ? tx.updateResource(changed) : tx.createResource(changed);
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';

function personRole(reference: string): Coding {
  if (reference.startsWith('Patient/')) {
    return { system: OBJECT_ROLE, code: '1', display: 'Patient' };
  }
  return reference.startsWith('Practitioner/')
    ? { system: OBJECT_ROLE, code: '15', display: 'Practitioner' }
    : { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' };
}

/**
 * "Patient Record" updated (the person's preferences), in the person's compartment so a patient
 * sees it in their access log. Names the number, the person and the keyword, never the message.
 */
function smsConsentEvent(
  change: SmsConsentChange,
  recorded: string,
  person: string | undefined,
  preferencesId: string | undefined
): AuditEvent {
  const what = change.consent === 'opt-out' ? 'opted out of SMS' : 'opted in to SMS again';
  return {
    resourceType: 'AuditEvent',
    type: { system: DCM, code: '110110', display: 'Patient Record' },
    action: 'U',
    recorded,
    outcome: '0',
    outcomeDesc: `${change.phone} ${what} (${change.keyword} by SMS)`,
    agent: [
      {
        who: person ? { reference: person } : { display: `SMS sender ${change.phone}` },
        requestor: true,
        network: { address: change.phone, type: '3' }, // 3: telephone number
      },
      { who: { display: 'Twilio inbound SMS webhook' }, requestor: false },
    ],
    source: { site: change.site, observer: { display: 'Hale' } },
    entity: [
      ...(person ? [{ what: { reference: person }, role: personRole(person) }] : []),
      ...(preferencesId
        ? [
            {
              what: { reference: `Basic/${preferencesId}` },
              role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
              description: 'Communication preferences',
            },
          ]
        : []),
      {
        what: { identifier: { system: TWILIO_MESSAGE_SID_SYSTEM, value: change.messageSid } },
        description: 'Inbound SMS',
        detail: [
          { type: 'keyword', valueString: change.keyword },
          { type: 'phone', valueString: change.phone },
        ],
      },
    ],
  };
}
