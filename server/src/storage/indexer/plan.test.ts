import { getResourceTypes, loadFhirDefinitions } from '../../fhir/definitions';
import { indexPlan } from './plan';

beforeAll(() => loadFhirDefinitions());

test('almost every R4 search parameter is compiled; these few use the FHIRPath engine', () => {
  const slow: string[] = [];
  let planned = 0;
  for (const resourceType of getResourceTypes()) {
    for (const param of indexPlan(resourceType)) {
      planned++;
      if (param.slowBranches.length > 0) {
        slow.push(`${resourceType}.${param.code}`);
      }
    }
  }
  console.log(
    `${planned} indexed (type, parameter) pairs, ${slow.length} using the FHIRPath engine: ${slow.join(', ')}`
  );
  expect(slow).toEqual([
    // Components navigating from %resource rather than from the base element.
    'MolecularSequence.chromosome-variant-coordinate',
    'MolecularSequence.referenceseqid-variant-coordinate',
    // `Patient.deceased.exists() and Patient.deceased != false`: a boolean expression, not a path.
    'Patient.deceased',
  ]);
});
