import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { canonicalUrl, expandValueSet, registerTerminology } from './terminology';

const VS = 'http://hl7.org/fhir/ValueSet/';
const TEST = 'http://example.org/hale-test/';

describe('expandValueSet with the R4 definitions', () => {
  test('expands a ValueSet that includes a whole CodeSystem, ignoring the version suffix', () => {
    const gender = expandValueSet(`${VS}administrative-gender|4.0.1`);
    expect([...(gender?.codes ?? [])].sort()).toEqual(['female', 'male', 'other', 'unknown']);
    expect(gender?.systemCodes.has('http://hl7.org/fhir/administrative-gender|male')).toBe(true);
    expect(canonicalUrl(`${VS}administrative-gender|4.0.1`)).toBe(`${VS}administrative-gender`);
  });

  test('includes nested concepts of a hierarchical CodeSystem', () => {
    const issueType = expandValueSet(`${VS}issue-type`);
    // 'structure' sits under 'invalid', 'code-invalid' under 'processing'.
    expect(issueType?.codes.has('invalid')).toBe(true);
    expect(issueType?.codes.has('structure')).toBe(true);
    expect(issueType?.codes.has('code-invalid')).toBe(true);
  });

  test('includes other ValueSets, also from the v2 tables', () => {
    const yesNo = expandValueSet(`${VS}yesnodontknow`);
    expect(yesNo?.systemCodes.has('http://terminology.hl7.org/CodeSystem/v2-0136|Y')).toBe(true);
    expect(yesNo?.systemCodes.has('http://terminology.hl7.org/CodeSystem/data-absent-reason|asked-unknown')).toBe(true);
    expect(yesNo?.codes.has('unknown')).toBe(false);
  });

  test('refuses to expand filters, external code systems and unknown ValueSets', () => {
    expect(expandValueSet(`${VS}encounter-participant-type`)).toBeUndefined();
    expect(expandValueSet(`${VS}condition-code`)).toBeUndefined();
    expect(expandValueSet(`${VS}observation-codes`)).toBeUndefined();
    expect(expandValueSet(`${VS}mimetypes`)).toBeUndefined();
    expect(expandValueSet(`${TEST}ValueSet/never-defined`)).toBeUndefined();
  });
});

describe('expandValueSet with registered terminology', () => {
  const colors: CodeSystem = {
    resourceType: 'CodeSystem',
    url: `${TEST}colors`,
    status: 'active',
    content: 'complete',
    concept: [{ code: 'red', concept: [{ code: 'crimson' }, { code: 'scarlet' }] }, { code: 'blue' }],
  };
  const valueSet = (name: string, compose: ValueSet['compose']): ValueSet => ({
    resourceType: 'ValueSet',
    url: `${TEST}ValueSet/${name}`,
    status: 'active',
    compose,
  });

  beforeAll(() => {
    registerTerminology([
      colors,
      {
        resourceType: 'CodeSystem',
        url: `${TEST}partial`,
        status: 'active',
        content: 'fragment',
        concept: [{ code: 'a' }],
      },
      valueSet('warm', {
        include: [{ system: `${TEST}colors` }],
        exclude: [{ system: `${TEST}colors`, concept: [{ code: 'blue' }] }],
      }),
      valueSet('reds', { include: [{ system: `${TEST}colors`, concept: [{ code: 'red' }, { code: 'crimson' }] }] }),
      valueSet('both', { include: [{ valueSet: [`${TEST}ValueSet/warm`, `${TEST}ValueSet/reds`] }] }),
      valueSet('fragment', { include: [{ system: `${TEST}partial` }] }),
      valueSet('cycle-a', { include: [{ valueSet: [`${TEST}ValueSet/cycle-b`] }] }),
      valueSet('cycle-b', { include: [{ valueSet: [`${TEST}ValueSet/cycle-a`] }] }),
      valueSet('bad-exclude', {
        include: [{ system: `${TEST}colors` }],
        exclude: [{ system: 'http://snomed.info/sct' }],
      }),
      { resourceType: 'ValueSet', url: `${TEST}ValueSet/expansion-only`, status: 'active' },
    ]);
  });

  test('applies excludes to a whole-CodeSystem include', () => {
    expect([...(expandValueSet(`${TEST}ValueSet/warm`)?.codes ?? [])].sort()).toEqual(['crimson', 'red', 'scarlet']);
  });

  test('intersects the ValueSets named in one include', () => {
    expect([...(expandValueSet(`${TEST}ValueSet/both`)?.codes ?? [])].sort()).toEqual(['crimson', 'red']);
  });

  test('cannot expand fragments, cycles, unexpandable excludes or ValueSets without compose', () => {
    for (const name of ['fragment', 'cycle-a', 'bad-exclude', 'expansion-only']) {
      expect(expandValueSet(`${TEST}ValueSet/${name}`)).toBeUndefined();
    }
  });
});
