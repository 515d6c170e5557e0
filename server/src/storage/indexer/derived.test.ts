import { getResourceTypes, getSearchParams, loadFhirDefinitions } from '../../fhir/definitions';
import { derivedParams } from './derived';
import { indexPlan } from './plan';

beforeAll(() => {
  loadFhirDefinitions();
});

describe('derived search parameters', () => {
  test("Observation's combo and composite parameters are answered from other parameters' rows", () => {
    const derived = derivedParams('Observation');
    expect(derived.get('combo-code')).toEqual({ kind: 'union', valueKind: 'token', codes: ['code', 'component-code'] });
    // value-quantity also names SampledData, which gives no quantity rows, so the composite's value.ofType(Quantity) is the same rows.
    expect(derived.get('code-value-quantity')).toEqual({
      kind: 'composite',
      terms: [
        {
          kind: 'conjunction',
          components: [
            { code: 'code', valueKind: 'token' },
            { code: 'value-quantity', valueKind: 'quantity' },
          ],
        },
      ],
    });
    expect(derived.get('combo-code-value-quantity')).toEqual({
      kind: 'composite',
      terms: [
        expect.objectContaining({ kind: 'conjunction' }),
        { kind: 'grouped', code: 'component-code-value-quantity' },
      ],
    });
    expect(derived.has('component-code-value-quantity')).toBe(false);
    expect(derived.has('code')).toBe(false);
  });

  test('derived parameters are left out of the index plan, their sources are in it', () => {
    const planned = new Set(indexPlan('Observation').map((p) => p.code));
    for (const code of derivedParams('Observation').keys()) {
      expect(planned.has(code)).toBe(false);
    }
    for (const code of ['code', 'component-code', 'value-quantity', 'component-code-value-quantity', 'patient']) {
      expect(planned.has(code)).toBe(true);
    }
  });

  test('no reference or special parameter is ever derived, and every union part is stored', () => {
    for (const type of getResourceTypes()) {
      const planned = new Set(indexPlan(type).map((p) => p.code));
      for (const [code, derivation] of derivedParams(type)) {
        expect(`${type}.${code} ${getSearchParams(type)[code]?.type}`).not.toMatch(/ (reference|special)$/);
        const parts =
          derivation.kind === 'union'
            ? derivation.codes
            : derivation.terms.flatMap((t) => (t.kind === 'grouped' ? [t.code] : t.components.map((c) => c.code)));
        for (const part of parts) {
          expect(`${type}.${part} planned: ${planned.has(part)}`).toBe(`${type}.${part} planned: true`);
        }
      }
    }
  });
});
