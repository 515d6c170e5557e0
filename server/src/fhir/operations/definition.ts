import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';

/** A Hale OperationDefinition on one resource type (id `<Type>-<code>`, name the code in PascalCase). */
export function haleOperation(input: {
  resource: NonNullable<OperationDefinition['resource']>[number];
  code: string;
  title: string;
  description: string;
  instance: boolean;
  parameter: OperationDefinitionParameter[];
}): OperationDefinition {
  return {
    resourceType: 'OperationDefinition',
    id: `${input.resource}-${input.code}`,
    url: `${HALE_FHIR}/OperationDefinition/${input.resource}-${input.code}`,
    name: input.code.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()),
    title: input.title,
    status: 'active',
    kind: 'operation',
    code: input.code,
    description: input.description,
    resource: [input.resource],
    system: false,
    type: !input.instance,
    instance: input.instance,
    parameter: input.parameter,
  };
}
