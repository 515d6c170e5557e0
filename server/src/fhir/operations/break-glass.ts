import { accountIdOf } from '../../access/caller-policy';
import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { AuditEvent, CodeableConcept, OperationDefinition, Parameters } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { CLIENT_ID_SYSTEM, HALE_FHIR } from '../../access/consent/vocabulary';
import { ACCOUNT_ID_SYSTEM } from '../../audit/build-event';
import type { AccessTokenClaims } from '../../auth/types';
import { sql } from '../../db/sql';
import { emergencyAccessMail } from '../../notify/templates';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { callerOf } from './context';
import { forbiddenBecause } from '../errors';
import { OperationInput, invalid } from './parameters';

export const breakGlassOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Patient-break-glass',
  url: `${HALE_FHIR}/OperationDefinition/Patient-break-glass`,
  name: 'BreakGlass',
  title: 'Emergency access',
  status: 'active',
  kind: 'operation',
  code: 'break-glass',
  description:
    "A provider or administrator declares an emergency and reads the patient's whole record (except their access " +
    'log and Consents) without a Consent, for `minutes` (default 60, at most 240). Recorded as an AuditEvent ' +
    "(Emergency Override Started, purposeOfUse ETREAT, with the reason) in the patient's access log; the patient " +
    'is told by email (which says nothing about who or why).',
  resource: ['Patient'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'reason', use: 'in', min: 1, max: '1', type: 'string', documentation: 'Why (at least 10 characters)' },
    { name: 'minutes', use: 'in', min: 0, max: '1', type: 'integer', documentation: '1 to 240, default 60' },
    { name: 'id', use: 'out', min: 1, max: '1', type: 'string' },
    { name: 'patient', use: 'out', min: 1, max: '1', type: 'Reference' },
    { name: 'expires', use: 'out', min: 1, max: '1', type: 'instant' },
  ],
};

const ROLES_ALLOWED = ['provider', 'admin'];
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const ETREAT = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
  code: 'ETREAT',
  display: 'Emergency Treatment',
};
export const BREAK_GLASS_SYSTEM = `${HALE_FHIR}/sid/break-glass`;

/** POST Patient/{id}/$break-glass */
export async function breakGlassHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const caller = callerOf(repo);
  if (!(caller.roles ?? []).some((r) => ROLES_ALLOWED.includes(r))) {
    throw forbiddenBecause('Only providers and administrators may declare emergency access');
  }
  if (!accountIdOf(caller)) {
    throw forbiddenBecause('Emergency access is declared by a signed-in person, not by an app');
  }
  const patientId = req.params.id as string;
  const input = OperationInput.parse(breakGlassOperation, req.body);
  const reason = input.one('reason', 'string')?.trim() ?? '';
  if (reason.length < 10 || reason.length > 1000) {
    throw invalid("'reason' must be 10 to 1000 characters");
  }
  const minutes = input.one('minutes', 'integer') ?? 60;
  if (minutes < 1 || minutes > 240) {
    throw invalid("'minutes' must be from 1 to 240");
  }
  const system = deps.systemRepository();
  await system.readResource('Patient', patientId); // 404 for an unknown patient
  const id = randomUUID();
  const now = new Date();
  const expires = new Date(now.getTime() + minutes * 60_000);
  // Audit before the access exists: a declaration that fails afterwards leaves a record of the
  // attempt, never access without a record.
  await deps.audit.record(breakGlassEvent({ id, caller, patientId, reason, now, expires, site: repo.ctx.baseUrl }));
  await system.queryable.query(
    sql`INSERT INTO break_glass (id, account_id, actor, patient_id, reason, created_at, expires_at)
      VALUES (${id}::uuid, ${caller.sub}::uuid, ${caller.fhirUser ?? 'admin'}, ${patientId}, ${reason},
        ${now.toISOString()}::timestamptz, ${expires.toISOString()}::timestamptz)`
  );
  await deps.accessCache.bump();
  const accounts = await system.queryable.query<{ email: string }>(
    sql`SELECT email FROM account WHERE profile_type = 'Patient' AND profile_id = ${patientId}
      AND status = 'active' AND email_verified`
  );
  for (const { email } of accounts) {
    deps.notifier.mail(emergencyAccessMail(email, deps.serverUrl));
  }
  const out: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'id', valueString: id },
      { name: 'patient', valueReference: { reference: `Patient/${patientId}` } },
      { name: 'expires', valueInstant: expires.toISOString() },
    ],
  };
  return [allOk, out];
}

interface Declaration {
  id: string;
  caller: AccessTokenClaims;
  patientId: string;
  reason: string;
  now: Date;
  expires: Date;
  site: string;
}

/** DICOM "Security Alert / Emergency Override Started", in the patient's compartment (their access log). */
function breakGlassEvent(d: Declaration): AuditEvent {
  const purpose: CodeableConcept = { coding: [ETREAT], text: d.reason };
  return {
    resourceType: 'AuditEvent',
    type: { system: DCM, code: '110113', display: 'Security Alert' },
    subtype: [{ system: DCM, code: '110127', display: 'Emergency Override Started' }],
    action: 'E',
    period: { start: d.now.toISOString(), end: d.expires.toISOString() },
    recorded: d.now.toISOString(),
    outcome: '0',
    purposeOfEvent: [purpose],
    agent: [
      {
        who: d.caller.fhirUser
          ? { reference: d.caller.fhirUser }
          : { identifier: { system: ACCOUNT_ID_SYSTEM, value: d.caller.sub } },
        altId: d.caller.sub,
        requestor: true,
        policy: [`break-glass/${d.id}`],
        purposeOfUse: [purpose],
      },
      { who: { identifier: { system: CLIENT_ID_SYSTEM, value: d.caller.client_id } }, requestor: false },
    ],
    source: { site: d.site, observer: { display: 'Hale' } },
    entity: [
      { what: { reference: `Patient/${d.patientId}` }, role: { system: OBJECT_ROLE, code: '1', display: 'Patient' } },
      { what: { identifier: { system: BREAK_GLASS_SYSTEM, value: d.id } }, description: 'Break-glass declaration' },
    ],
  };
}

const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
