import type { TypedValue } from '@medplum/core';
import { evalFhirPathTyped, parseFhirPath } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { getSearchParams, loadFhirDefinitions } from '../../fhir/definitions';
import { branchesFor } from './branches';
import { compileExpression, compileSearchParam } from './expression';
import { loadSyntheaResources } from './synthea-fixtures';

beforeAll(() => loadFhirDefinitions());

/** What the FHIRPath engine selects: each branch of the expression that applies to the type, in order. */
function slowValues(type: string, expression: string, value: object, resource: Resource): TypedValue[] {
  const variables = { '%resource': { type: resource.resourceType, value: resource } };
  return branchesFor(type, expression).flatMap((branch) =>
    evalFhirPathTyped(parseFhirPath(branch.text), [{ type, value }], variables).map((v) => ({
      type: v.type,
      value: v.value,
    }))
  );
}

describe('branch selection', () => {
  test('keeps the branches of a multi-type parameter that apply to the type', () => {
    const code = getSearchParams('Observation')['code'] as SearchParameter;
    expect(branchesFor('Observation', code.expression as string).map((b) => b.text)).toEqual(['Observation.code']);
  });

  test('keeps Resource and DomainResource branches, the latter only for DomainResources', () => {
    expect(branchesFor('Patient', 'Resource.meta.tag | DomainResource.text').map((b) => b.text)).toEqual([
      'Patient.meta.tag',
      'Patient.text',
    ]);
    expect(branchesFor('Bundle', 'Resource.meta.tag | DomainResource.text').map((b) => b.text)).toEqual([
      'Bundle.meta.tag',
    ]);
  });

  test('keeps relative branches', () => {
    expect(branchesFor('InsurancePlan', 'name | alias').map((b) => b.text)).toEqual(['name', 'alias']);
  });
});

describe('compiled extractors', () => {
  const observation = {
    resourceType: 'Observation',
    status: 'final',
    code: { text: 'x' },
    subject: { reference: 'Patient/p1' },
    performer: [{ reference: 'Practitioner/d1' }, { reference: 'http://elsewhere/fhir/Patient/p2/_history/3' }],
    valueQuantity: { value: 7, unit: 'mg' },
    component: [{ code: { text: 'a' }, valueString: 's' }, { code: { text: 'b' } }],
  };

  test.each([
    ['Observation.value as Quantity', [{ type: 'Quantity', value: { value: 7, unit: 'mg' } }]],
    ['(Observation.value as Quantity)', [{ type: 'Quantity', value: { value: 7, unit: 'mg' } }]],
    ['Observation.valueQuantity', [{ type: 'Quantity', value: { value: 7, unit: 'mg' } }]],
    ['Observation.valueString', []],
    ['Observation.value.ofType(string)', []],
    ['Observation.component.value', [{ type: 'string', value: 's' }]],
    [
      'Observation.component.code.text',
      [
        { type: 'string', value: 'a' },
        { type: 'string', value: 'b' },
      ],
    ],
    ['Observation.component[0].code.text', [{ type: 'string', value: 'a' }]],
    ['Observation.component.code[0].text', undefined],
    ['Observation.performer.where(resolve() is Patient)', [{ type: 'Reference', value: observation.performer[1] }]],
    ['Observation.subject.where(resolve() is Patient)', [{ type: 'Reference', value: observation.subject }]],
    ['Observation.subject.where(resolve() is Group)', []],
  ])('%s', (expression, expected) => {
    const compiled = compileExpression('Observation', expression);
    if (expected === undefined) {
      expect(compiled.slowBranches).toHaveLength(1);
    } else {
      expect(compiled.slowBranches).toEqual([]);
      expect(compiled.extract(observation)).toEqual(expected);
    }
  });

  test('where(system = ...) filters on a primitive property', () => {
    const patient = {
      resourceType: 'Patient',
      telecom: [
        { system: 'phone', value: '1' },
        { system: 'email', value: 'e' },
      ],
    };
    const compiled = compileExpression('Patient', "Patient.telecom.where(system='email')");
    expect(compiled.slowBranches).toEqual([]);
    expect(compiled.extract(patient)).toEqual([{ type: 'ContactPoint', value: patient.telecom[1] }]);
  });

  test('Bundle.entry[0].resource yields the first entry resource typed by its resourceType', () => {
    const bundle = { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Composition', id: 'c' } }, {}] };
    const compiled = compileExpression('Bundle', 'Bundle.entry[0].resource');
    expect(compiled.slowBranches).toEqual([]);
    expect(compiled.extract(bundle)).toEqual([
      { type: 'Composition', value: { resourceType: 'Composition', id: 'c' } },
    ]);
  });
});

describe.each([
  ['references resolved', true],
  ['urn:uuid references as in the bundles', false],
])('equivalence with the FHIRPath engine on Synthea, %s', (_label, resolve) => {
  const resources = loadSyntheaResources(resolve);

  test('fixtures are all there', () => {
    expect(resources).toHaveLength(3409);
  });

  test('every search parameter of every resource selects the same values', () => {
    const mismatches: string[] = [];
    let compared = 0;
    let nonEmpty = 0;
    for (const resource of resources) {
      const type = resource.resourceType;
      for (const [code, searchParam] of Object.entries(getSearchParams(type))) {
        if (!searchParam.expression) {
          continue;
        }
        const fast = compileSearchParam(type, searchParam).extract(resource);
        const slow = slowValues(type, searchParam.expression, resource, resource);
        compared++;
        nonEmpty += fast.length > 0 ? 1 : 0;
        if (JSON.stringify(fast) !== JSON.stringify(slow)) {
          mismatches.push(`${type}.${code} ${resource.id}: ${JSON.stringify(fast)} != ${JSON.stringify(slow)}`);
        }
        if (searchParam.type === 'composite') {
          compareComponents(searchParam, fast, resource, mismatches);
        }
      }
    }
    console.log(`compared ${compared} (resource, parameter) pairs, ${nonEmpty} with values`);
    expect(mismatches.slice(0, 20)).toEqual([]);
  });
});

function compareComponents(searchParam: SearchParameter, bases: TypedValue[], resource: Resource, out: string[]): void {
  for (const base of bases) {
    for (const component of searchParam.component ?? []) {
      const expression = component.expression;
      const fast = compileExpression(base.type, expression).extract(base.value, resource);
      const slow = slowValues(base.type, expression, base.value, resource);
      if (JSON.stringify(fast) !== JSON.stringify(slow)) {
        out.push(`${searchParam.code} component ${expression}: ${JSON.stringify(fast)} != ${JSON.stringify(slow)}`);
      }
    }
  }
}
