import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes';

/** The Bulk Data IG 2.0 CapabilityStatement Hale instantiates. */
export const BULK_DATA_CAPABILITY = 'http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data';

const input = (name: string, type: string, max = '1'): OperationDefinitionParameter => ({
  name,
  use: 'in',
  min: 0,
  max,
  type,
});

const PARAMETERS: OperationDefinitionParameter[] = [
  input('_outputFormat', 'string'),
  input('_since', 'instant'),
  input('_until', 'instant'),
  input('_type', 'string', '*'),
  input('_elements', 'string', '*'),
  input('includeAssociatedData', 'code', '*'),
  input('_typeFilter', 'string', '*'),
];

function definition(
  code: string,
  url: string,
  resource: ('Patient' | 'Group')[] | undefined,
  extra: OperationDefinitionParameter[]
): OperationDefinition {
  return {
    resourceType: 'OperationDefinition',
    url,
    name: code.replace(/-/g, '_'),
    status: 'active',
    kind: 'operation',
    code: 'export',
    ...(resource ? { resource } : {}),
    system: !resource,
    type: resource?.[0] === 'Patient',
    instance: resource?.[0] === 'Group',
    parameter: [...PARAMETERS, ...extra],
  };
}

export const systemExportOperation = definition(
  'export',
  'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export',
  undefined,
  []
);
export const patientExportOperation = definition(
  'patient-export',
  'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export',
  ['Patient'],
  [input('patient', 'Reference', '*')]
);
export const groupExportOperation = definition(
  'group-export',
  'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export',
  ['Group'],
  [input('patient', 'Reference', '*')]
);
