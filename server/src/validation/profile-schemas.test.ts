import type { TypedValueWithPath } from '@medplum/core';
import { OperationOutcomeError, getAllDataTypes, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../fhir/definitions';
import { BREAKS, validReading } from '../wellness/examples';
import { MEASUREMENTS } from '../wellness/measurements';
import { RECORD_PROFILES } from '../wellness/records';
import { RECORD_BREAKS, validRecord } from '../wellness/record-examples';
import type { RecordKey } from '../wellness/record-examples';
import { registerHaleProfiles } from './hale-profiles';
import { validateAgainstProfile } from './profile-schemas';
import { knownProfiles } from './profiles';
import { mutants } from './testing/mutations';
import { syntheaResources } from './testing/synthea';

/** Fixed, so the mutants (and therefore the test) are the same on every run. */
const SEED = 20261207;

interface Run {
  issues: OperationOutcomeIssue[];
  /** What the binding checks receive: the collected values, by ValueSet, with their paths. */
  tokens: string;
}

type Validate = (resource: Resource, tokens: Record<string, TypedValueWithPath[]>) => unknown;

function runOf(resource: Resource, validate: Validate): Run {
  // Core merges `_x` objects into the resource it checks, so each run gets its own copy.
  const copy = structuredClone(resource);
  const tokens: Record<string, TypedValueWithPath[]> = {};
  let issues: OperationOutcomeIssue[];
  try {
    issues = validate(copy, tokens) as OperationOutcomeIssue[];
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) {
      issues = [{ severity: 'fatal', code: 'exception', diagnostics: `threw ${String(err)}` }];
    } else {
      issues = err.outcome.issue ?? [];
    }
  }
  const collected = Object.entries(tokens).map(([url, values]) => [url, values.map((v) => [v.path, v.value])]);
  return { issues, tokens: JSON.stringify(collected) };
}

const parsingEachTime =
  (profile: StructureDefinition): Validate =>
  (resource, tokens) =>
    validateResource(resource, { profile, collect: { tokens } });
const parsedOnce =
  (profile: StructureDefinition): Validate =>
  (resource, tokens) =>
    validateAgainstProfile(resource, profile, { collect: { tokens } });

/** Every resource checked against every profile given, by both paths; the pairs whose outcomes differ. */
function differences(pairs: { resource: Resource; profile: StructureDefinition }[]): string[] {
  return pairs.flatMap(({ resource, profile }) => {
    const expected = runOf(resource, parsingEachTime(profile));
    const actual = runOf(resource, parsedOnce(profile));
    return JSON.stringify(expected) === JSON.stringify(actual)
      ? []
      : [
          `${profile.url} on ${JSON.stringify(resource)}:\n  core ${JSON.stringify(expected)}\n  ours ${JSON.stringify(actual)}`,
        ];
  });
}

const refs = { patientId: 'p1', conditionId: 'c1', observationId: 'o1' };
const byUrl = (url: string): StructureDefinition => {
  const found = knownProfiles().find((sd) => sd.url === url);
  if (!found) {
    throw new Error(`no profile ${url}`);
  }
  return found;
};

/** Hale's conformant examples, each with the profile it claims, and each way the examples know to break them. */
function haleExamples(): { resource: Resource; profile: StructureDefinition }[] {
  const readings = MEASUREMENTS.flatMap((m) => {
    const profile = byUrl(m.profile);
    const valid = { ...validReading(m.key, refs.patientId), meta: { profile: [m.profile] } };
    const broken = BREAKS[m.key]?.change(structuredClone(valid));
    return [valid, ...(broken ? [broken] : [])].map((resource) => ({ resource, profile }));
  });
  const records = (Object.keys(RECORD_PROFILES) as RecordKey[]).flatMap((key) => {
    const profile = byUrl(RECORD_PROFILES[key]);
    const valid = validRecord(key, refs);
    const broken = RECORD_BREAKS[key].map((b) => b.change(structuredClone(valid)));
    return [valid, ...broken].map((resource) => ({ resource, profile }));
  });
  return [...readings, ...records];
}

describe('validating against a profile parsed once reports what core reports parsing it each time', () => {
  beforeAll(() => {
    loadFhirDefinitions();
    registerHaleProfiles();
  });

  test("Hale's measurement and record examples, conformant and broken", () => {
    const pairs = haleExamples();
    expect(pairs.length).toBeGreaterThan(40);
    // Some examples must be refused, or the comparison would only ever see empty outcomes.
    expect(
      pairs.filter(({ resource, profile }) => runOf(resource, parsedOnce(profile)).issues.length > 0).length
    ).toBeGreaterThan(20);
    expect(differences(pairs)).toEqual([]);
  });

  test('mutants of the conformant examples (1,500 asked for, every kind)', () => {
    const conformant = haleExamples().filter(
      ({ resource, profile }) => runOf(resource, parsedOnce(profile)).issues.length === 0
    );
    const each = Math.ceil(1500 / conformant.length);
    // Per source, so each mutant is checked against the profile its source claims (a mutant's meta may be broken).
    const pairs = conformant.flatMap(({ resource, profile }, i) =>
      [...mutants([resource], each, SEED + i)].map((mutant) => ({ resource: mutant.resource, profile }))
    );
    // Some kinds fit no place in a given source (an extension kind in a resource without extensions).
    expect(pairs.length).toBeGreaterThan(1000);
    expect(differences(pairs)).toEqual([]);
  });

  test('Synthea resources against every known profile of their type (the built-in FHIR profiles too)', () => {
    const synthea = syntheaResources();
    const pairs = knownProfiles().flatMap((profile) => {
      const ofType = synthea.filter((r) => r.resourceType === profile.type);
      // An even spread of at most 12 per profile keeps the test to seconds: core's path parses every time.
      const step = Math.max(1, Math.floor(ofType.length / 12));
      return ofType
        .filter((_, i) => i % step === 0)
        .slice(0, 12)
        .map((resource) => ({ resource, profile }));
    });
    expect(pairs.length).toBeGreaterThan(300);
    expect(differences(pairs)).toEqual([]);
  });

  test('the parsed profile is visible to no one after the call, and a profile re-registered is parsed anew', () => {
    const profile = byUrl(MEASUREMENTS[0]!.profile);
    validateAgainstProfile({ ...validReading(MEASUREMENTS[0]!.key, refs.patientId) }, profile, {});
    expect(Object.keys(getAllDataTypes()).filter((name) => name.includes(' '))).toEqual([]);
    // A copy requiring `note` (a new object, as a re-registered profile is) is parsed, not served from the cache.
    const stricter: StructureDefinition = structuredClone(profile);
    const note = stricter.snapshot?.element?.find((e) => e.path === 'Observation.note');
    if (note) {
      note.min = 1;
    }
    const reading = validReading(MEASUREMENTS[0]!.key, refs.patientId);
    expect(runOf(reading, parsedOnce(profile)).issues).toEqual([]);
    expect(runOf(reading, parsedOnce(stricter)).issues.map((i) => i.expression?.[0])).toEqual(['Observation.note']);
  });
});
