import type { Constraint } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { UCUM, evalFhirPathTyped, getAllDataTypes, toTypedValue } from '@medplum/core';
import { loadFhirDefinitions } from '../../fhir/definitions';
import { mutants } from '../testing/mutations';
import { syntheaContainers, syntheaResources } from '../testing/synthea';
import { generatePatientBundle } from '../../../../seed/src';
import { handwrittenCheck, handwrittenIds } from './handwritten';
import type { JsonObject } from './json';

/** Where a hand-written invariant is evaluated: on a resource of some type, or on values of a named property. */
interface Target {
  constraint: Constraint;
  /** The FHIR type of the values, for the engine. */
  type: string;
  /** Resource types whose root carries the invariant, or the JSON properties whose values carry it. */
  resourceTypes: Set<string>;
  properties: Set<string>;
}

/** Odd extensions, to probe the engine's notion of "exists" (empty items, `_x` siblings, non-objects). */
const EXTENSIONS: unknown[] = [
  {},
  null,
  'text',
  [],
  { url: 'http://e' },
  { url: 'http://e', valueString: '' },
  { url: 'http://e', valueString: 'a', extension: [] },
  { url: 'http://e', _valueString: { id: 'a' } },
  { url: 'http://e', valueBoolean: false, _valueBoolean: {} },
  { url: 'http://e', valueCoding: [{}] },
  { url: 'http://e', valueCoding: {} },
  { url: 'http://e', extension: [null] },
  { url: 'http://e', extension: [{}] },
  { url: 'http://e', extension: [{}, { url: 'x', valueString: 'y' }] },
  { url: 'http://e', extension: [{ url: 'y', valueString: 'z' }], valueString: 'a' },
  { url: 'http://e', valueString: '', valueBoolean: true },
  { url: 'http://e', _extension: [{ id: 'x' }] },
];

/** Parameters of every shape inv-1 tells apart: value, resource, parts, several, none, empty and `_x` values. */
const PARAMETERS: Resource[] = [
  {
    resourceType: 'Parameters',
    parameter: [
      { name: 'triggered', valueBoolean: true },
      { name: 'patient', resource: { resourceType: 'Patient', id: 'p' } },
      {
        name: 'reading',
        part: [
          { name: 'observation', valueReference: { reference: 'Observation/1' } },
          { name: 'value', valueDecimal: 120 },
        ],
      },
      { name: 'none' },
      { name: 'both', valueString: 'a', resource: { resourceType: 'Patient' } },
      { name: 'part and value', valueInteger: 1, part: [{ name: 'x', valueCode: 'y' }] },
      { name: 'part and resource', resource: { resourceType: 'Basic' }, part: [{ name: 'x' }] },
      { name: 'empty value', valueString: '' },
      { name: 'extended value', _valueString: { extension: [{ url: 'http://e', valueString: 'x' }] } },
      { name: 'empty part', part: [] },
      { name: 'empty resource', resource: {} },
      { name: 'two values', valueString: 'a', valueBoolean: false },
    ],
  } as Resource,
];

describe('hand-written invariants give the same result as the FHIRPath engine', () => {
  loadFhirDefinitions();
  const synthea = syntheaResources();
  const containers = syntheaContainers();
  // Synthea writes no Appointment and no Observation.referenceRange; the seed generator does.
  const seeded = [0, 1, 2, 3].flatMap((patientIndex) =>
    (generatePatientBundle({ seed: 3, patientIndex }).entry ?? []).map((e) => e.resource as Resource)
  );
  const resources: unknown[] = [
    ...synthea,
    ...containers,
    ...seeded,
    ...PARAMETERS,
    ...[...mutants(PARAMETERS, 400, 10)].map((m) => m.resource),
    ...[...mutants(synthea, 1500, 7)].map((m) => m.resource),
    ...[...mutants(containers, 200, 8)].map((m) => m.resource),
    ...[...mutants(seeded, 1500, 9)].map((m) => m.resource),
  ];
  const targets = findTargets();
  const inputs = collectInputs([...targets.values()], resources);

  test('every hand-written invariant is one of the base definitions', () => {
    expect([...targets.keys()].sort()).toEqual(handwrittenIds().sort());
  });

  test.each(handwrittenIds())('%s', (id) => {
    const target = targets.get(id) as Target;
    const check = handwrittenCheck(target.constraint);
    const disagreements: string[] = [];
    const values = inputs.get(target) ?? [];
    for (const [value, resource] of values) {
      // Hand-written first: the engine merges `_x` objects into the values it reads.
      const expected = check?.(value, resource);
      const actual = engineHolds(target.constraint.expression, target.type, value, resource);
      // The engine throws where core cannot merge a malformed `_x` into its value (e.g. `_code: [null]` beside a
      // string); core's validator then throws too and its findings are discarded, so there is nothing to match.
      if (actual !== 'error' && expected !== actual) {
        disagreements.push(`${JSON.stringify(value).slice(0, 300)}: hand-written says ${expected}`);
      }
    }
    expect(disagreements).toEqual([]);
    expect(values.length).toBeGreaterThan(5);
  });
});

/** Each hand-written invariant with where the base definitions put it. */
function findTargets(): Map<string, Target> {
  const ids = new Set(handwrittenIds());
  const targets = new Map<string, Target>();
  const add = (constraint: Constraint, type: string, at: { resourceType?: string; property?: string }): void => {
    const id = `${constraint.key}|${constraint.expression}`;
    if (!ids.has(id)) {
      return;
    }
    const target = targets.get(id) ?? { constraint, type, resourceTypes: new Set(), properties: new Set() };
    targets.set(id, target);
    if (at.resourceType) {
      target.resourceTypes.add(at.resourceType);
    }
    if (at.property) {
      target.properties.add(at.property);
    }
  };
  for (const [name, schema] of Object.entries(getAllDataTypes())) {
    for (const constraint of schema.constraints ?? []) {
      add(constraint, name, { resourceType: schema.kind === 'resource' ? name : undefined });
    }
    for (const [path, element] of Object.entries(schema.elements)) {
      for (const constraint of element.constraints ?? []) {
        add(constraint, element.type[0]?.code ?? '', { property: path });
      }
    }
  }
  return targets;
}

/** The values each invariant applies to, each with the resource around it; odd extensions for ext-1. */
function collectInputs(targets: Target[], resources: unknown[]): Map<Target, [unknown, JsonObject][]> {
  const inputs = new Map<Target, [unknown, JsonObject][]>(targets.map((t) => [t, []]));
  const add = (target: Target, value: unknown, resource: JsonObject): void => {
    inputs.get(target)?.push([value, resource]);
  };
  for (const target of targets.filter((t) => t.properties.has('extension'))) {
    for (const extension of EXTENSIONS) {
      add(target, structuredClone(extension), { resourceType: 'Basic' });
    }
  }
  const visit = (value: unknown, resource: JsonObject): void => {
    if (Array.isArray(value)) {
      value.forEach((item) => visit(item, resource));
      return;
    }
    if (typeof value !== 'object' || value === null) {
      return;
    }
    const object = value as JsonObject;
    const around = typeof object.resourceType === 'string' ? object : resource;
    for (const target of targets) {
      if (target.resourceTypes.has(object.resourceType as string)) {
        add(target, object, object);
      }
    }
    for (const [key, child] of Object.entries(object)) {
      for (const target of targets.filter((t) => t.properties.has(key))) {
        for (const item of Array.isArray(child) ? child : [child]) {
          add(target, item, around);
        }
      }
      visit(child, around);
    }
  };
  resources.forEach((resource) => visit(resource, resource as JsonObject));
  return inputs;
}

function engineHolds(expression: string, type: string, value: unknown, resource: JsonObject): boolean | 'error' {
  const context = { type: resourceTypeOf(value) ?? type, value };
  const variables = {
    '%context': context,
    '%ucum': toTypedValue(UCUM),
    '%resource': toTypedValue(resource),
    '%rootResource': toTypedValue(resource),
  };
  try {
    const result = evalFhirPathTyped(expression, [context], variables);
    return result.length === 1 && result[0]?.value === true;
  } catch {
    return 'error';
  }
}

/** A nested resource is typed by its resourceType, as core's validator types it. */
function resourceTypeOf(value: unknown): string | undefined {
  const type = typeof value === 'object' && value !== null ? (value as JsonObject).resourceType : undefined;
  return typeof type === 'string' ? type : undefined;
}
