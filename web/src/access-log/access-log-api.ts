import { formatHumanName } from '@medplum/core';
import type { AuditEvent, AuditEventAgent, Bundle, HumanName, Resource } from '@medplum/fhirtypes';
import { medplum } from '../session';

/** One line of "who saw my record", in words. */
export interface AccessEntry {
  id: string;
  when: string;
  /** "Dr Rua Tane", "You", "An automated service (hale-rules)". */
  who: string;
  /** The patient themself did it (hidden unless asked for). */
  self: boolean;
  /** "viewed", "changed", … */
  action: string;
  /** "vital signs and measurements (2), your profile". */
  what: string;
  /** Why it was allowed, when someone else's access rests on something the patient did: "your sharing". */
  basis?: string;
  refused: boolean;
}

export interface AccessPage {
  entries: AccessEntry[];
  next?: string;
}

const CLIENT_ID_SYSTEM = 'https://hale.health/fhir/sid/client-id';
const PAGE = 100;

const ACTIONS: Record<string, string> = { C: 'added', R: 'viewed', U: 'changed', D: 'deleted', E: 'looked up' };

/** What a resource type is to the patient; any type not named here is shown by its FHIR name. */
const TYPE_WORDS: Record<string, string> = {
  Observation: 'measurements and results',
  Patient: 'your profile',
  Consent: 'your sharing',
  CareTeam: 'your care team',
  Condition: 'conditions',
  MedicationStatement: 'medications',
  MedicationRequest: 'prescriptions',
  AllergyIntolerance: 'allergies',
  Goal: 'goals',
  CarePlan: 'care plans',
  Flag: 'alerts',
  Appointment: 'appointments',
  Communication: 'messages',
  DocumentReference: 'documents',
  DiagnosticReport: 'reports',
  AuditEvent: 'this access log',
};

function nameOf(resource: Resource | undefined): string | undefined {
  const names = (resource as { name?: HumanName[] | string } | undefined)?.name;
  if (typeof names === 'string') {
    return names;
  }
  return names?.[0] ? formatHumanName(names[0]) || undefined : undefined;
}

/**
 * Who acted, in words. A Patient other than this one is never named: the server names a patient acting on
 * someone else's record by account, and the portal does not show another patient's id either.
 */
function whoActed(agent: AuditEventAgent | undefined, patientRef: string, included: Map<string, Resource>): string {
  const ref = agent?.who?.reference;
  if (ref === patientRef) {
    return 'You';
  }
  if (ref) {
    const type = ref.split('/')[0];
    if (type === 'Patient') {
      return 'Another Hale user';
    }
    return nameOf(included.get(ref)) ?? (type === 'Practitioner' ? 'A provider' : 'Someone');
  }
  const id = agent?.who?.identifier;
  if (id?.system === CLIENT_ID_SYSTEM) {
    return `An automated service (${id.value ?? 'unnamed'})`;
  }
  return agent?.who?.display?.startsWith('Patient/') ? 'Another Hale user' : 'Someone';
}

/** The types of the resources the event names (not the patient themself), counted: "measurements and results (2)". */
function whatOf(event: AuditEvent, patientRef: string): string {
  const counts = new Map<string, number>();
  for (const e of event.entity ?? []) {
    const ref = e.what?.reference;
    if (!ref || ref.startsWith(`${patientRef}/`) || ref === patientRef) {
      continue;
    }
    const type = ref.split('/')[0] ?? '';
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  if (counts.size === 0) {
    return 'your record';
  }
  return [...counts].map(([type, n]) => `${TYPE_WORDS[type] ?? type}${n > 1 ? ` (${n})` : ''}`).join(', ');
}

/** The Consent (id) an access rested on, from the versioned `Consent/{id}/_history/{n}` the server records. */
function consentOf(agent: AuditEventAgent | undefined): string | undefined {
  const policy = agent?.policy?.find((p) => p.startsWith('Consent/'));
  return policy?.split('/')[1];
}

function basisOf(agent: AuditEventAgent | undefined, shared: Map<string, string>): string | undefined {
  if (agent?.policy?.some((p) => p.startsWith('break-glass/'))) {
    return 'emergency access (break-glass)';
  }
  const consent = consentOf(agent);
  if (!consent) {
    return undefined;
  }
  const since = shared.get(consent);
  return since
    ? `your sharing of ${new Date(since).toLocaleDateString(undefined, { dateStyle: 'medium' })}`
    : 'your sharing';
}

/** When each of the patient's shares was made (Consent.dateTime), for "under your sharing of 1 Dec". */
async function sharedOn(ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) {
    return new Map();
  }
  // Without the dates the log still says "under your sharing": this is detail, not a reason to show nothing.
  const consents = await medplum
    .searchResources('Consent', { _id: ids.join(','), _count: String(ids.length) })
    .catch(() => []);
  return new Map(consents.flatMap((c) => (c.id && c.dateTime ? [[c.id, c.dateTime] as const] : [])));
}

function requestorOf(event: AuditEvent): AuditEventAgent | undefined {
  return event.agent?.find((a) => a.requestor) ?? event.agent?.[0];
}

function entryOf(
  event: AuditEvent,
  patientRef: string,
  included: Map<string, Resource>,
  shared: Map<string, string>
): AccessEntry {
  const agent = requestorOf(event);
  return {
    id: event.id ?? '',
    when: event.recorded,
    who: whoActed(agent, patientRef, included),
    self: agent?.who?.reference === patientRef,
    action: ACTIONS[event.action ?? ''] ?? 'used',
    what: whatOf(event, patientRef),
    basis: basisOf(agent, shared),
    refused: event.outcome !== undefined && event.outcome !== '0',
  };
}

/**
 * The AuditEvents in the patient's compartment, newest first, with the agents they name (_include) so the log
 * can say "Dr Rua Tane" in the same request. The server lets a patient search only their own compartment
 * (docs/audit.md), so nothing here filters other patients out: the server never sends them.
 */
export async function accessLog(patientId: string, next?: string): Promise<AccessPage> {
  const url = next ? new URL(next) : medplum.fhirUrl('AuditEvent');
  if (!next) {
    url.search = new URLSearchParams({
      patient: `Patient/${patientId}`,
      _sort: '-date',
      _count: String(PAGE),
      _include: 'AuditEvent:agent',
    }).toString();
  }
  const bundle = await medplum.get<Bundle>(url);
  const included = new Map<string, Resource>();
  const events: AuditEvent[] = [];
  for (const e of bundle.entry ?? []) {
    if (e.resource?.resourceType === 'AuditEvent' && (e.search?.mode ?? 'match') === 'match') {
      events.push(e.resource);
    } else if (e.resource) {
      included.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
    }
  }
  const patientRef = `Patient/${patientId}`;
  // A second request, only when someone's access rested on a share: the patient's own Consents, by id.
  const shared = await sharedOn([...new Set(events.flatMap((e) => consentOf(requestorOf(e)) ?? []))]);
  return {
    entries: events.map((e) => entryOf(e, patientRef, included, shared)),
    next: bundle.link?.find((l) => l.relation === 'next')?.url,
  };
}
