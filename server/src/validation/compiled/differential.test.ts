import type { Resource } from '@medplum/fhirtypes';
import type { Outcome } from '../testing/compare';
import { compareValidators } from '../testing/compare';
import type { DifferenceReason } from '../testing/differences';
import { mutants } from '../testing/mutations';
import { syntheaContainers, syntheaResources } from '../testing/synthea';

/** Fixed, so the mutants (and therefore the test) are the same on every run. */
const SEED = 20240611;

/**
 * Where the compiled validator deliberately differs from the reference implementation (reference/validate.ts),
 * and why. Any other difference in the (expression, code) pairs of the error issues fails the test.
 */
const DELIBERATE_DIFFERENCES: Record<DifferenceReason, string> = {
  indexes:
    'The reference drops the array indexes of enclosing elements in some issues ("Expected array of values", ' +
    '"Expected single value", content of an array-valued `_x`); the compiled validator names the exact item.',
  choiceConflict:
    'A choice element given in several types (valueString and valueQuantity): core only warns, checks the first ' +
    'type and would store the others unchecked; the compiled validator rejects the extra ones.',
  choiceSuffix:
    'An unknown property named like a choice element (valueFoo) passes core when a valid type of that choice is ' +
    'also present; the compiled validator reports it like any unknown property.',
  malformedExtension:
    'Where a `_x` sibling is malformed or empty (and reported as such), core still merges it into the value it ' +
    'extends: an array `_x` beside the value 0 turns it into a list, an empty `_x` beside a boolean makes core ' +
    'call both properties unknown. What it reports about the misread value is not repeated.',
  emptyExtension:
    'An empty `_x` object ({}) says nothing (ele-1, which core skips); the compiled validator rejects it like ' +
    'empty objects everywhere else, the reference let it through.',
  nestedNotInArray:
    'A nested resource given as an object where an array belongs (contained: {...}) is still checked for a ' +
    'known resourceType; the reference only looked for nested resources inside arrays.',
  coreAborted:
    'Core aborts on a nested resource of unknown type and throws plain Errors on some malformed `_x`; the ' +
    'reference then loses everything core had found, the compiled validator still reports it.',
  noiseBelow:
    'Below a value rejected as a whole (wrong JSON kind, empty or null, unknown element, single/array mismatch) ' +
    'core reports artefacts of how it crawls malformed input, e.g. string indexes as properties or nulls inside ' +
    'unknown elements; issues strictly below such a value are not compared.',
};

interface KindSummary {
  mutants: number;
  rejected: number;
  identical: number;
  reasons: Partial<Record<DifferenceReason, number>>;
}

describe('the compiled validator reports what the reference implementation reports', () => {
  const synthea = syntheaResources();
  const containers = syntheaContainers();

  test('both accept every Synthea resource, and Bundles and Parameters built from them', () => {
    const rejected = [...synthea, ...containers]
      .map((resource) => ({ resource, outcome: compareValidators(resource) }))
      .filter(({ outcome }) => outcome.compiled.length > 0 || outcome.reference.length > 0)
      .map(({ resource, outcome }) => `${resource.resourceType}/${resource.id}: ${JSON.stringify(outcome)}`);
    expect(rejected).toEqual([]);
  });

  test('the same (expression, code) errors for 4,000 mutated resources, but for the deliberate differences', () => {
    const summaries = new Map<string, KindSummary>();
    const unexplained: string[] = [];
    let count = 0;
    for (const mutant of [mutants(synthea, 3600, SEED), mutants(containers, 400, SEED + 1)].flatMap((m) => [...m])) {
      count++;
      const outcome = compareValidators(mutant.resource);
      summarize(summaries, mutant.kind, outcome);
      for (const difference of outcome.differences.filter((d) => d.reason === undefined)) {
        const { code, expression, details } = difference.issue;
        unexplained.push(`${mutant.description} → ${difference.side}: ${code} ${expression?.[0]} (${details?.text})`);
      }
    }
    console.log(report(summaries));
    expect(unexplained).toEqual([]);
    // The mutants must exercise the validators: most are invalid, and every kind has identical rejections.
    const rejected = [...summaries.values()].reduce((sum, s) => sum + s.rejected, 0);
    expect(count).toBe(4000);
    expect(rejected / count).toBeGreaterThan(0.6);
    for (const [kind, summary] of summaries) {
      expect([kind, summary.identical > 0]).toEqual([kind, true]);
    }
  });

  test.each<[string, boolean, unknown]>([
    ['a wrong primitive type inside a choice type', false, { valueQuantity: { value: 'a' } }],
    ['an unknown property in a backbone element', false, { component: [{ code: { text: 'c' }, foo: 1 }] }],
    ['a missing required element in a backbone element', false, { component: [{ valueString: 'v' }] }],
    ['obs-6', false, { valueString: 'x', dataAbsentReason: { text: 'y' } }],
    ['an extension-only primitive', true, { _status: { extension: [{ url: 'http://e', valueString: 'v' }] } }],
    ['a bad required code with an extension', false, { status: 'done', _status: { id: 'x' } }],
    ['ext-1 inside a primitive extension', false, { _issued: { extension: [{ url: 'http://e' }] } }],
    ['an unknown property inside a primitive extension', false, { _issued: { foo: 1 } }],
    ['a null item beside its extension', true, { identifier: [{ value: 'a' }], note: [{ text: 'n' }] }],
    ['dom-2 and dom-4', false, { contained: [{ resourceType: 'Patient', meta: { versionId: '1' }, contained: [{}] }] }],
  ])('hand-picked Observation: %s', (_name, valid, properties) => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      ...(properties as object),
    };
    const outcome = compareValidators(observation as Resource);
    expect(outcome.reference.length === 0).toBe(valid);
    expect(outcome.differences).toEqual([]);
  });

  test('every deliberate difference has a reason', () => {
    for (const reason of Object.values(DELIBERATE_DIFFERENCES)) {
      expect(reason.length).toBeGreaterThan(40);
    }
  });
});

function summarize(summaries: Map<string, KindSummary>, kind: string, outcome: Outcome): void {
  const summary = summaries.get(kind) ?? { mutants: 0, rejected: 0, identical: 0, reasons: {} };
  summaries.set(kind, summary);
  summary.mutants++;
  if (outcome.compiled.length > 0 && outcome.reference.length > 0) {
    summary.rejected++;
    summary.identical += outcome.differences.length === 0 ? 1 : 0;
  }
  for (const { reason } of outcome.differences) {
    if (reason) {
      summary.reasons[reason] = (summary.reasons[reason] ?? 0) + 1;
    }
  }
}

function report(summaries: Map<string, KindSummary>): string {
  const lines = [...summaries].map(
    ([kind, s]) =>
      `${kind.padEnd(72)} ${String(s.mutants).padStart(4)} ${String(s.rejected).padStart(8)} ` +
      `${String(s.identical).padStart(9)}  ${JSON.stringify(s.reasons)}`
  );
  return [`${'mutation'.padEnd(72)} mutants rejected identical  deliberate differences`, ...lines].join('\n');
}
