type JsonObject = Record<string, unknown>;

/** A value inside a resource being mutated, with its parent so it can be replaced. */
export interface Location {
  parent: JsonObject | unknown[] | undefined;
  key: string | number;
  value: unknown;
  path: string;
  root: JsonObject;
}

export interface MutationKind {
  name: string;
  applies(location: Location): boolean;
  /** Mutates the resource in place and describes what it did. */
  apply(location: Location, random: () => number): string;
}

const CHOICE =
  /^(value|effective|onset|abatement|occurrence|performed|multipleBirth|deceased|medication|serviced)([A-Z]\w*)$/;
const NESTED_RESOURCES: unknown[] = [
  { resourceType: 'Nope', id: 'c' },
  { id: 'c', gender: 'x' },
  { resourceType: 'Patient', id: 'c', gender: 'bogus' },
  { resourceType: 'Patient', id: 'c', meta: { versionId: '1' } },
  { resourceType: 'Patient', id: 'c', meta: { lastUpdated: '2020-01-01T00:00:00Z' } },
  { resourceType: 'Patient', id: 'c', meta: { security: [{ code: 'R' }] } },
  { resourceType: 'Patient', id: 'c', contained: [{ resourceType: 'Patient', id: 'd' }] },
  {
    resourceType: 'Observation',
    id: 'c',
    status: 'final',
    code: { text: 'x' },
    valueString: 'v',
    dataAbsentReason: { text: 'y' },
  },
  { resourceType: 'Patient', id: 'c', active: 'yes', extension: [{ url: 'http://e' }] },
  { resourceType: 5 },
  'not a resource',
];
const EXTENSION_VARIANTS: unknown[] = [
  { id: 'x' },
  { extension: [{ url: 'http://e', valueString: 'v' }] },
  { extension: [{}] },
  { extension: [{ url: 'http://e' }] },
  { foo: 1 },
  { resourceType: 'Element' },
  {},
  'str',
  null,
  [null],
  [{ id: 'x' }],
];
const EXTENSION_ARRAY_VARIANTS: unknown[] = [
  [null, { id: 'x' }],
  [{ id: 'x' }],
  [{ extension: [{}] }],
  { id: 'x' },
  ['s'],
  [],
];

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

function set(location: Location, value: unknown): void {
  (location.parent as JsonObject)[location.key as string] = value;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPrimitive(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function kindOf(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

const inResource = (location: Location): boolean => location.parent !== undefined;
const inObject = (location: Location): boolean => isObject(location.parent);

export const MUTATION_KINDS: readonly MutationKind[] = [
  {
    name: 'wrong JSON type',
    applies: inResource,
    apply: (location, random) => {
      const options = [7, 2.5, true, 'text', { a: 1 }, ['text'], [{ a: 1 }]];
      const value = pick(
        options.filter((o) => kindOf(o) !== kindOf(location.value)),
        random
      );
      set(location, value);
      return `replaced by ${JSON.stringify(value)}`;
    },
  },
  {
    name: 'unknown element',
    applies: (location) => isObject(location.value),
    apply: (location, random) => {
      const key = pick(['foo', 'valueFoo', '_foo', 'fooBar', 'Id'], random);
      (location.value as JsonObject)[key] = pick(['x', 1, { a: 1 }, [1], null, { bar: null }], random);
      return `added ${key}`;
    },
  },
  {
    name: 'removed element',
    applies: inObject,
    apply: (location) => {
      delete (location.parent as JsonObject)[location.key as string];
      return 'removed';
    },
  },
  {
    name: 'single value wrapped in an array',
    applies: (location) => inObject(location) && !Array.isArray(location.value),
    apply: (location, random) => {
      set(location, random() < 0.5 ? [location.value] : [location.value, location.value]);
      return 'wrapped';
    },
  },
  {
    name: 'array unwrapped to its first item',
    applies: (location) => inObject(location) && Array.isArray(location.value) && location.value.length > 0,
    apply: (location) => {
      set(location, (location.value as unknown[])[0]);
      return 'unwrapped';
    },
  },
  {
    name: 'bad code',
    applies: (location) => typeof location.value === 'string' && location.key !== 'resourceType',
    apply: (location, random) => {
      const code = pick(['bogus-code', 'FINAL', 'male ', 'x'], random);
      set(location, code);
      return `set to ${JSON.stringify(code)}`;
    },
  },
  {
    name: 'bad primitive format',
    applies: (location) => inResource(location) && isPrimitive(location.value) && location.key !== 'resourceType',
    apply: (location, random) => {
      const strings = ['2020-13-01', '2021-02-29T10:00:00Z', '2020-01-01T25:00', ' ', 'two  spaces', 'ctl\u0001char'];
      const more = ['bad id!', 'urn:uuid:XYZ', '12:61:00', 'not base64!', 'a b', '-1', '1.5'];
      const numbers = [1.5, -1, 0, 3_000_000_000, -3_000_000_000];
      const value = typeof location.value === 'number' ? pick(numbers, random) : pick([...strings, ...more], random);
      set(location, value);
      return `set to ${JSON.stringify(value)}`;
    },
  },
  {
    name: 'empty value',
    applies: inResource,
    apply: (location, random) => {
      const value = pick(['', {}, [], null, [null], [{}], ['']], random);
      set(location, value);
      return `set to ${JSON.stringify(value)}`;
    },
  },
  {
    name: 'primitive extension',
    applies: (location) =>
      inObject(location) &&
      typeof location.key === 'string' &&
      (isPrimitive(location.value) || (Array.isArray(location.value) && location.value.every(isPrimitive))),
    apply: (location, random) => {
      const variants = Array.isArray(location.value) ? EXTENSION_ARRAY_VARIANTS : EXTENSION_VARIANTS;
      const extension = structuredClone(pick(variants, random));
      (location.parent as JsonObject)[`_${location.key}`] = extension;
      return `added _${location.key}: ${JSON.stringify(extension)}`;
    },
  },
  {
    name: 'nested resource',
    applies: (location) => location.parent === undefined,
    apply: (location, random) => {
      const nested = structuredClone(pick(NESTED_RESOURCES, random));
      location.root.contained = [nested];
      return `contained ${JSON.stringify(nested)}`;
    },
  },
  {
    name: 'conflicting or invalid choice type',
    applies: (location) => inObject(location) && typeof location.key === 'string' && CHOICE.test(location.key),
    apply: (location, random) => {
      const [, prefix] = CHOICE.exec(location.key as string) ?? [];
      const parent = location.parent as JsonObject;
      const variant = pick(['String', 'Boolean', 'Quantity', 'Foo', 'rename'], random);
      if (variant === 'rename') {
        delete parent[location.key as string];
        parent[`${prefix}String`] = location.value;
        return `renamed to ${prefix}String`;
      }
      parent[`${prefix}${variant}`] = variant === 'Quantity' ? { value: 1 } : variant === 'Boolean' ? true : 'x';
      return `added ${prefix}${variant}`;
    },
  },
  {
    name: 'resourceType in a data type',
    applies: (location) => location.parent !== undefined && isObject(location.value),
    apply: (location, random) => {
      const type = pick(['Coding', 'Patient', 'Nope'], random);
      (location.value as JsonObject).resourceType = type;
      return `added resourceType ${type}`;
    },
  },
  ...invariantKinds(),
];

/** Defects aimed at invariants: ext-1, ele-1, obs-6, obs-7, con-4, con-5, ait-1/2 and dom-3 (which core skips). */
function invariantKinds(): MutationKind[] {
  return [
    {
      name: 'extension with both or neither value and extensions (ext-1)',
      applies: (location) => isObject(location.value) && typeof location.value.url === 'string',
      apply: (location) => {
        const extension = location.value as JsonObject;
        const valueKey = Object.keys(extension).find((k) => k.startsWith('value'));
        if (valueKey) {
          extension.extension = [{ url: 'http://e', valueString: 'v' }];
          return 'added an extension beside the value';
        }
        delete extension.extension;
        return 'removed the nested extensions';
      },
    },
    {
      name: 'element with only an id (ele-1)',
      applies: (location) => inResource(location) && isObject(location.value),
      apply: (location) => {
        set(location, { id: 'only-id' });
        return 'replaced by {"id":"only-id"}';
      },
    },
    {
      name: 'resource invariants (obs-6, obs-7, con-4, con-5, ait-1, ait-2, dom-3)',
      applies: (location) => location.parent === undefined,
      apply: (location) => breakResourceInvariant(location.root),
    },
  ];
}

function breakResourceInvariant(resource: JsonObject): string {
  switch (resource.resourceType) {
    case 'Observation':
      if (Object.keys(resource).some((k) => k.startsWith('value'))) {
        resource.dataAbsentReason = { text: 'unknown' };
        return 'dataAbsentReason beside a value (obs-6)';
      }
      resource.valueString = 'x';
      // The very same Coding objects in a component: what the engine's identity-based intersect() detects.
      resource.component = [{ code: resource.code, valueString: 'y' }];
      return 'component with the Observation code (obs-7)';
    case 'Condition':
      if (resource.abatementDateTime === undefined) {
        resource.abatementDateTime = '2020-01-01';
        return 'abatement while clinically active (con-4)';
      }
      resource.verificationStatus = {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }],
      };
      return 'entered-in-error with a clinical status (con-5)';
    case 'AllergyIntolerance':
      delete resource.clinicalStatus;
      return 'no clinical status (ait-1)';
    default:
      resource.contained = [{ resourceType: 'Basic', id: 'unreferenced', code: { text: 'x' } }];
      return 'unreferenced contained resource (dom-3, skipped)';
  }
}
