import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from '@medplum/fhirtypes';
import { CLIENT_ID_SYSTEM, HALE_FHIR } from '../access/consent/vocabulary';
import type { ClassifiedRequest } from './interaction';
import { actionOf, isSearch } from './interaction';
import type { Involved } from './involved';

/** Identifies a Hale account (the token's `sub`) when the user has no FHIR profile to reference. */
export const ACCOUNT_ID_SYSTEM = `${HALE_FHIR}/sid/account-id`;
export const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
/** At most this many resources are named per AuditEvent; a count entity tells how many there were. */
export const RESOURCE_CAP = 50;

const REST: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
  code: 'rest',
  display: 'RESTful Operation',
};
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const PERSON: Coding = { system: ENTITY_TYPE, code: '1', display: 'Person' };
const SYSTEM_OBJECT: Coding = { system: ENTITY_TYPE, code: '2', display: 'System Object' };
const PATIENT_ROLE: Coding = { system: OBJECT_ROLE, code: '1', display: 'Patient' };
const DOMAIN_RESOURCE_ROLE: Coding = { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' };
const QUERY_ROLE: Coding = { system: OBJECT_ROLE, code: '24', display: 'Query' };
const REQUEST_ID: Coding = {
  system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType',
  code: 'XrequestId',
  display: 'X-Request-Id',
};
const USER_TYPE: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  code: 'IRCP',
  display: 'information recipient',
};
const APP_TYPE: Coding = {
  system: 'http://dicom.nema.org/resources/ontology/DCM',
  code: '110150',
  display: 'Application',
};
const SERVER_SOURCE: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/security-source-type',
  code: '4',
  display: 'Application Server',
};

/** Everything known about one FHIR request when its answer is ready. */
export interface AuditFacts {
  request: ClassifiedRequest;
  status: number;
  recorded: string;
  /** The token's fhirUser, account (`sub`) and client. */
  caller: { fhirUser?: string; subject: string; clientId: string };
  involved: Involved;
  /** The URL path and query as received: recorded for searches. */
  url?: string;
  requestId?: string;
  address?: string;
  outcomeText?: string;
  /** The access policy's basisFor: which Consent versions (or own record, break-glass) allowed it. */
  basisFor?: (patientIds: readonly string[]) => string[];
  /** Where the events are observed (the FHIR base URL). */
  site: string;
}

/**
 * The AuditEvents of one request. A request about one patient (or none) gives one event. A request
 * touching several patients gives, as IHE BALP asks, one event per patient naming only that patient's
 * resources and no query (the query could name the others), so each patient's own log shows nobody
 * else; plus one summary event with the query and every resource, in no patient's compartment.
 */
export function buildAuditEvents(facts: AuditFacts): AuditEvent[] {
  const patients = [...facts.involved.patients];
  const all = [...facts.involved.resources.keys()];
  if (patients.length <= 1) {
    return [auditEvent(facts, patients, all, true)];
  }
  const events = patients.map((p) =>
    auditEvent(
      facts,
      [p],
      all.filter((ref) => facts.involved.resources.get(ref)?.includes(p)),
      false
    )
  );
  events.push(auditEvent(facts, [], all, true, patients));
  return events;
}

function auditEvent(
  facts: AuditFacts,
  patients: string[],
  resources: string[],
  withQuery: boolean,
  basisPatients: string[] = patients
): AuditEvent {
  const { request, status } = facts;
  const entity: AuditEventEntity[] = patients.map((p) => ({
    what: { reference: `Patient/${p}` },
    type: PERSON,
    role: PATIENT_ROLE,
  }));
  for (const ref of resources.slice(0, RESOURCE_CAP)) {
    entity.push({ what: { reference: ref }, type: SYSTEM_OBJECT, role: DOMAIN_RESOURCE_ROLE });
  }
  if (resources.length > RESOURCE_CAP) {
    entity.push({
      type: SYSTEM_OBJECT,
      description: `${resources.length} resources; the first ${RESOURCE_CAP} are listed`,
      detail: [{ type: 'resource-count', valueString: String(resources.length) }],
    });
  }
  if (isSearch(request.interaction) && withQuery && facts.url) {
    entity.push({
      type: SYSTEM_OBJECT,
      role: QUERY_ROLE,
      query: Buffer.from(facts.url).toString('base64'),
      detail: [{ type: 'resource-count', valueString: String(resources.length) }],
    });
  }
  if (facts.requestId) {
    entity.push({ what: { identifier: { value: facts.requestId } }, type: REQUEST_ID });
  }
  return {
    resourceType: 'AuditEvent',
    type: REST,
    subtype: [{ system: RESTFUL_INTERACTION, code: request.interaction }],
    action: actionOf(request.interaction, status),
    recorded: facts.recorded,
    outcome: status < 400 ? '0' : status < 500 ? '4' : '8',
    ...(status >= 400 && facts.outcomeText ? { outcomeDesc: facts.outcomeText } : {}),
    agent: [userAgent(facts, basisPatients), appAgent(facts.caller.clientId)],
    source: { site: facts.site, observer: { display: 'Hale' }, type: [SERVER_SOURCE] },
    entity,
  };
}

/**
 * The user, by reference to their fhirUser when there is one. Exception: a patient acting on other
 * patients' data. A reference would put the event in the actor's compartment too, and show them
 * what their answer did not (that a resource they were refused exists, and whose it is); so there
 * the user is named by account, with their fhirUser as display, and only the other patients see it.
 */
function userAgent(facts: AuditFacts, patients: string[]): AuditEventAgent {
  const { fhirUser, subject, clientId } = facts.caller;
  const policy = facts.basisFor?.(patients) ?? [];
  const actorPatient = fhirUser?.startsWith('Patient/') ? fhirUser.slice('Patient/'.length) : undefined;
  const byReference = fhirUser && (!actorPatient || patients.every((p) => p === actorPatient));
  const system = subject === clientId ? CLIENT_ID_SYSTEM : ACCOUNT_ID_SYSTEM;
  return {
    type: { coding: [USER_TYPE] },
    who: byReference
      ? { reference: fhirUser }
      : { identifier: { system, value: subject }, ...(fhirUser ? { display: fhirUser } : {}) },
    ...(byReference && subject !== clientId ? { altId: subject } : {}),
    requestor: true,
    ...(policy.length > 0 ? { policy } : {}),
    ...(facts.address ? { network: { address: facts.address, type: '2' as const } } : {}),
  };
}

function appAgent(clientId: string): AuditEventAgent {
  return {
    type: { coding: [APP_TYPE] },
    who: { identifier: { system: CLIENT_ID_SYSTEM, value: clientId } },
    requestor: false,
  };
}
