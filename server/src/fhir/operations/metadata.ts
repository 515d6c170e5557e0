import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  OperationDefinition,
  ResourceType,
} from '@medplum/fhirtypes';
import { tryGetDataType } from '@medplum/core';
import { smartSecurityExtension } from '../../auth/oauth';
import {
  BULK_DATA_CAPABILITY,
  groupExportOperation,
  patientExportOperation,
  systemExportOperation,
} from '../../bulk/operations';
import { supportsNear } from '../../storage/search/near';
import { isIndexedParam } from '../../storage/search-params';
import { getResourceTypes, getSearchParams } from '../definitions';
import { breakGlassOperation } from './break-glass';
import { documentUploadOperation } from './document-upload';
import { everythingOperation } from './everything';
import { importDeviceOperation } from './import-device';
import { lastnOperation } from './lastn';
import { summaryOperation } from './summary';
import { myPatientsOperation } from './my-patients';
import { requestShareOperation } from './request-share';
import { revokeShareOperation } from './revoke-share';
import { SCHEDULING_OPERATIONS } from './scheduling';
import { shareOperation } from './share';
import { statsOperation } from './stats';
import { validateOperation } from './validate';

export const HALE_VERSION = '0.1.0';

const TYPE_INTERACTIONS = [
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history-instance',
  'history-type',
  'create',
  'search-type',
] as const;

/** Operations on one resource type (besides $validate, which every type has). */
const TYPE_OPERATIONS: Record<string, OperationDefinition[]> = {
  Patient: [
    everythingOperation,
    shareOperation,
    requestShareOperation,
    breakGlassOperation,
    patientExportOperation,
    summaryOperation,
    importDeviceOperation,
  ],
  Group: [groupExportOperation],
  Consent: [revokeShareOperation],
  Practitioner: [myPatientsOperation],
  Observation: [lastnOperation, statsOperation],
  ...SCHEDULING_OPERATIONS,
  DocumentReference: [...(SCHEDULING_OPERATIONS.DocumentReference ?? []), documentUploadOperation],
};

const operationRef = (op: OperationDefinition): { name: string; definition: string } => ({
  name: op.code,
  definition: op.url as string,
});

/**
 * The CapabilityStatement, derived from what the server really loads: every resource type,
 * the search parameters that have index rows (plus _id and _lastUpdated), and the operations.
 */
export function buildCapabilityStatement(baseUrl: string): CapabilityStatement {
  const resources: CapabilityStatementRestResource[] = getResourceTypes().map((type) => {
    // `near` has no rows of its own: Location and the listings search it from the position rows (search/near.ts).
    const params = Object.entries(getSearchParams(type)).filter(
      ([code, sp]) =>
        code === '_id' || code === '_lastUpdated' || isIndexedParam(code, sp) || (code === 'near' && supportsNear(type))
    );
    const referenceParams = params.filter(([, sp]) => sp.type === 'reference').map(([code]) => `${type}:${code}`);
    const resource: CapabilityStatementRestResource = {
      type: type as ResourceType,
      profile: tryGetDataType(type)?.url ?? `http://hl7.org/fhir/StructureDefinition/${type}`,
      interaction: TYPE_INTERACTIONS.map((code) => ({ code })),
      versioning: 'versioned-update',
      readHistory: true,
      updateCreate: true,
      conditionalCreate: true,
      conditionalRead: 'not-supported',
      conditionalUpdate: true,
      conditionalDelete: 'single',
      referencePolicy: ['literal', 'logical', 'enforced', 'local'],
      searchInclude: referenceParams,
      searchRevInclude: referenceParams,
      searchParam: params.map(([code, sp]) => ({
        name: code,
        definition: sp.url,
        type: sp.type as 'token',
        documentation: sp.description,
      })),
      operation: [operationRef(validateOperation)],
    };
    resource.operation?.push(...(TYPE_OPERATIONS[type] ?? []).map(operationRef));
    return resource;
  });
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-20',
    kind: 'instance',
    instantiates: [BULK_DATA_CAPABILITY],
    publisher: 'Hale',
    software: { name: 'Hale', version: HALE_VERSION },
    implementation: { description: 'Hale FHIR R4 server', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        security: smartSecurityExtension(baseUrl),
        resource: resources,
        interaction: [
          { code: 'transaction' },
          { code: 'batch' },
          { code: 'search-system' },
          { code: 'history-system' },
        ],
        operation: [
          { name: 'graphql', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-graphql' },
          operationRef(systemExportOperation),
        ],
      },
    ],
  };
}
