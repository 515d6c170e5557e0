import type { Parameters, Resource } from '@medplum/fhirtypes';
import type { ClassifiedRequest } from './interaction';

/** Whom and what one request touched, as far as a cheap look at the request and the response tells. */
export interface Involved {
  /** Patient ids, in the order first seen. */
  patients: Set<string>;
  /** Resources touched (`Type/id/_history/vid`) and the patients each belongs to. */
  resources: Map<string, string[]>;
}

export function emptyInvolved(): Involved {
  return { patients: new Set(), resources: new Map() };
}

/**
 * Top-level elements that name the patient a resource is about. Only these are looked at: the
 * full compartment computation would index every response, which is what auditing must not cost.
 */
const PATIENT_ELEMENTS = ['subject', 'patient', 'beneficiary', 'for', 'individual', 'securityContext'] as const;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const PATIENT_REF = /^Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** The Patient id of a reference string (relative, or absolute on our own base URL), if it names one. */
export function patientIdOf(reference: unknown, baseUrl: string): string | undefined {
  if (typeof reference !== 'string') {
    return undefined;
  }
  const local = reference.startsWith(baseUrl + '/') ? reference.slice(baseUrl.length + 1) : reference;
  return PATIENT_REF.exec(local)?.[1];
}

/** The patients a resource is about: a Patient itself, else its top-level patient references. */
export function patientsOfResource(resource: Resource, baseUrl: string): string[] {
  if (resource.resourceType === 'Patient') {
    return resource.id ? [resource.id] : [];
  }
  const out: string[] = [];
  const record = resource as unknown as Record<string, unknown>;
  for (const element of PATIENT_ELEMENTS) {
    const value = record[element];
    if (value === undefined) {
      continue;
    }
    for (const ref of Array.isArray(value) ? value : [value]) {
      const id = patientIdOf((ref as { reference?: unknown } | null)?.reference, baseUrl);
      if (id && !out.includes(id)) {
        out.push(id);
      }
    }
  }
  // An Appointment names its patient only among its participants (Appointment.participant.actor, the patient
  // compartment's parameter for it): a provider's list of appointments discloses each patient booked.
  if (resource.resourceType === 'Appointment') {
    for (const p of resource.participant ?? []) {
      const id = patientIdOf(p.actor?.reference, baseUrl);
      if (id && !out.includes(id)) {
        out.push(id);
      }
    }
  }
  return out;
}

function addResource(into: Involved, resource: Resource, baseUrl: string): void {
  if (resource.resourceType === 'OperationOutcome' || !resource.id) {
    return;
  }
  const patients = patientsOfResource(resource, baseUrl);
  patients.forEach((p) => into.patients.add(p));
  const version = resource.meta?.versionId;
  into.resources.set(`${resource.resourceType}/${resource.id}${version ? `/_history/${version}` : ''}`, patients);
}

/**
 * What the answer released or wrote: the resource, or each entry of a Bundle (search, history, batch). `sent` is
 * the request's body: a batch or transaction answered with return=minimal carries only locations, and an entry
 * that stored what it sent (a create, an update) is about the patients that resource names.
 */
export function addResponse(into: Involved, body: Resource | undefined, baseUrl: string, sent?: unknown): void {
  if (!body) {
    return;
  }
  if (body.resourceType === 'Parameters') {
    addParameters(into, body.parameter, baseUrl);
    return;
  }
  if (body.resourceType !== 'Bundle') {
    addResource(into, body, baseUrl);
    return;
  }
  const sentEntries =
    (sent as { resourceType?: unknown; entry?: unknown } | undefined)?.resourceType === 'Bundle'
      ? (sent as { entry?: unknown }).entry
      : undefined;
  for (const [i, entry] of (body.entry ?? []).entries()) {
    if (entry.resource?.resourceType === 'Bundle') {
      // A batch entry's search or $everything answer: what it released is in its own entries.
      addResponse(into, entry.resource, baseUrl);
    } else if (entry.resource) {
      addResource(into, entry.resource, baseUrl);
    } else if (entry.response?.location && /^2/.test(entry.response.status)) {
      // A batch/transaction entry answered with return=minimal: its location is the version written.
      const location = entry.response.location.replace(`${baseUrl}/`, '');
      const patient = patientIdOf(location, baseUrl);
      const patients = patient
        ? [patient]
        : storedAsSent(Array.isArray(sentEntries) ? sentEntries[i] : undefined, entry.response.status, baseUrl);
      patients.forEach((p) => into.patients.add(p));
      into.resources.set(location, patients);
    }
  }
}

/**
 * The patients of the resource an entry sent, when what was stored is that resource: a create that created (201;
 * a conditional create answering 200 found another resource) or an update. Otherwise none are known.
 */
function storedAsSent(sentEntry: unknown, status: string, baseUrl: string): string[] {
  const e = sentEntry as { resource?: unknown; request?: { method?: unknown } } | null | undefined;
  const method = e?.request?.method;
  const stored = (method === 'POST' && status.startsWith('201')) || method === 'PUT';
  return stored && isResource(e?.resource) ? patientsOfResource(e.resource, baseUrl) : [];
}

/**
 * An operation's Parameters answer ($my-patients, $summary, $lastn's parts …): the resources it carries and the
 * Patients it names by reference, at any depth of parts. A provider's list of their patients discloses each of
 * them, so each one's own log shows it.
 */
function addParameters(into: Involved, parameters: Parameters['parameter'], baseUrl: string): void {
  for (const p of parameters ?? []) {
    if (p.resource) {
      addResponse(into, p.resource, baseUrl);
    }
    const patient = patientIdOf(p.valueReference?.reference, baseUrl);
    if (patient) {
      into.patients.add(patient);
    }
    addParameters(into, p.part, baseUrl);
  }
}

/**
 * The patients the request itself names: the instance in the path (Patient/x, Patient/x/$everything),
 * `patient=` / `subject=Patient/…` search parameters, and the resources of a write or bundle.
 * Naming a patient counts even when the answer is empty or a refusal: that is an attempt on their data.
 */
export function addRequest(
  into: Involved,
  request: ClassifiedRequest,
  query: Record<string, unknown>,
  body: unknown,
  baseUrl: string
): void {
  addNamedPatients(into, request.resourceType, request.id, query, baseUrl);
  const resource = body as Resource | undefined;
  if (!resource || typeof resource !== 'object' || typeof resource.resourceType !== 'string') {
    return;
  }
  // A refused Bundle is audited too, whatever its entries are (null, numbers, strings: server/src/fuzz/).
  const entries: unknown[] = resource.resourceType === 'Bundle' && Array.isArray(resource.entry) ? resource.entry : [];
  const written: unknown[] =
    resource.resourceType === 'Bundle'
      ? entries.map((e) => (e as { resource?: unknown } | null)?.resource)
      : [resource];
  for (const r of written) {
    if (isResource(r)) {
      patientsOfResource(r, baseUrl).forEach((p) => into.patients.add(p));
    }
  }
  // A batch's reads name their patients in each entry's URL, as a request's path and query do.
  for (const entry of entries) {
    const url = (entry as { request?: { url?: unknown } } | null)?.request?.url;
    if (typeof url === 'string') {
      addEntryUrl(into, url, baseUrl);
    }
  }
}

/** The patients a path's instance (Patient/x…) and its patient, subject or beneficiary parameters name. */
function addNamedPatients(
  into: Involved,
  resourceType: string | undefined,
  id: string | undefined,
  query: Record<string, unknown>,
  baseUrl: string
): void {
  if (resourceType === 'Patient' && id && ID.test(id)) {
    into.patients.add(id);
  }
  for (const [key, raw] of Object.entries(query)) {
    const [name, modifier] = key.split(/[:.]/);
    const bare = name === 'patient' || (name === '_id' && resourceType === 'Patient');
    if (!bare && name !== 'subject' && name !== 'beneficiary') {
      continue;
    }
    for (const value of [raw].flat().flatMap((v) => (typeof v === 'string' ? v.split(',') : []))) {
      const patient =
        patientIdOf(value, baseUrl) ?? ((bare || modifier === 'Patient') && ID.test(value) ? value : undefined);
      if (patient) {
        into.patients.add(patient);
      }
    }
  }
}

/** A batch or transaction entry's URL (relative, or absolute on our base): `Type[/id…][?query]`. */
function addEntryUrl(into: Involved, url: string, baseUrl: string): void {
  const local = url.startsWith(baseUrl + '/') ? url.slice(baseUrl.length + 1) : url;
  const q = local.indexOf('?');
  const [resourceType, id] = (q < 0 ? local : local.slice(0, q)).split('/');
  const query: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  if (q >= 0) {
    let params: URLSearchParams;
    try {
      params = new URLSearchParams(local.slice(q + 1));
    } catch {
      return;
    }
    for (const [key, value] of params) {
      (query[key] ??= []).push(value);
    }
  }
  addNamedPatients(into, resourceType, id, query, baseUrl);
}

function isResource(value: unknown): value is Resource {
  return typeof value === 'object' && value !== null && typeof (value as Resource).resourceType === 'string';
}
