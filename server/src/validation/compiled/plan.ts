import type { InternalSchemaElement, InternalTypeSchema } from '@medplum/core';
import { capitalize, getDataType } from '@medplum/core';
import { canonicalUrl } from '../terminology';
import type { Invariant } from './invariants';
import { compileInvariants } from './invariants';
import type { JsType, PrimitiveCheck } from './primitives';
import { primitiveCheck, primitiveJsType } from './primitives';
import type { Segment } from './run';

/**
 * What the walker needs to know about a type, precomputed once from @medplum/core's parsed StructureDefinition:
 * a table from JSON property name to element, the required elements and the type's own invariants.
 */
export interface TypePlan {
  /** Resources may carry `resourceType`; any other object with that key is malformed. */
  readonly isResource: boolean;
  /** JSON property name → property, including the `_x` siblings of every element. */
  readonly properties: ReadonlyMap<string, PropertyRef>;
  readonly required: readonly ElementPlan[];
  /** The type's root invariants; core checks them on the resource being validated only, not on nested ones. */
  readonly invariants: readonly Invariant[];
}

export interface PropertyRef {
  readonly property: PropertyPlan;
  /** True for the `_x` sibling that carries a primitive's id and extensions. */
  readonly isExtension: boolean;
}

/** An element of a type; a choice element (`value[x]`) has one member per allowed type, in type order. */
export interface ElementPlan {
  readonly name: string;
  readonly isArray: boolean;
  readonly min: number;
  readonly max: number;
  readonly members: readonly PropertyPlan[];
  readonly invariants: readonly Invariant[];
  /** Canonical URL of the ValueSet of a required binding. */
  readonly requiredValueSet: string | undefined;
}

/** One JSON property: an element, or one type of a choice element (`valueQuantity`). */
export interface PropertyPlan {
  readonly element: ElementPlan;
  readonly code: string;
  readonly key: string;
  readonly extKey: string;
  readonly segment: Segment;
  readonly extSegment: Segment;
  /** The JSON type of a primitive type; undefined for complex types. */
  readonly jsType: JsType | undefined;
  /** The format and range check of a primitive type. */
  readonly primitive: PrimitiveCheck | undefined;
  /** Nested resources (contained, Bundle.entry.resource, ...) are validated against their own resourceType. */
  readonly isResource: boolean;
  /** Whether values are checked against the required binding (core binds code, string, uri, Coding, ...). */
  readonly bound: boolean;
  /** The plan of a complex type, resolved on first use because types refer to each other in cycles. */
  nested: TypePlan | undefined;
}

const TERMINOLOGY_TYPES = new Set(['CodeableConcept', 'Coding', 'code', 'Quantity', 'string', 'uri']);

const plans = new WeakMap<InternalTypeSchema, TypePlan>();

/** The plan of a type in @medplum/core's global schema, compiled on first use and cached with the schema. */
export function planOf(type: string): TypePlan {
  const schema = getDataType(type);
  let plan = plans.get(schema);
  if (!plan) {
    plan = compileType(schema);
    plans.set(schema, plan);
  }
  return plan;
}

/** The plan of a complex property's type. */
export function nestedPlan(property: PropertyPlan): TypePlan {
  property.nested ??= planOf(property.code);
  return property.nested;
}

function compileType(schema: InternalTypeSchema): TypePlan {
  const properties = new Map<string, PropertyRef>();
  const required: ElementPlan[] = [];
  for (const [name, element] of Object.entries(schema.elements)) {
    const plan = compileElement(name, element);
    for (const property of plan.members) {
      properties.set(property.key, { property, isExtension: false });
      properties.set(property.extKey, { property, isExtension: true });
    }
    if (plan.min > 0) {
      required.push(plan);
    }
  }
  return {
    isResource: schema.kind === 'resource',
    properties,
    required,
    invariants: compileInvariants(schema.constraints),
  };
}

function compileElement(name: string, element: InternalSchemaElement): ElementPlan {
  const binding = element.binding;
  const members: PropertyPlan[] = [];
  const plan: ElementPlan = {
    name,
    isArray: element.isArray === true,
    min: element.min,
    max: element.max,
    members,
    invariants: compileInvariants(element.constraints),
    // Canonical (without '|version') once here, rather than on every bound value.
    requiredValueSet: binding?.strength === 'required' && binding.valueSet ? canonicalUrl(binding.valueSet) : undefined,
  };
  const choicePrefix = name.endsWith('[x]') ? name.slice(0, -3) : undefined;
  for (const type of element.type) {
    const key = choicePrefix === undefined ? name : choicePrefix + capitalize(type.code);
    members.push(compileProperty(plan, key, type.code));
  }
  return plan;
}

function compileProperty(element: ElementPlan, key: string, code: string): PropertyPlan {
  const extKey = '_' + key;
  const jsType = primitiveJsType(code);
  return {
    element,
    code,
    key,
    extKey,
    segment: { json: key, core: element.name },
    extSegment: { json: extKey, core: element.name },
    jsType,
    primitive: jsType ? primitiveCheck(code) : undefined,
    isResource: code === 'Resource',
    bound: element.requiredValueSet !== undefined && TERMINOLOGY_TYPES.has(code),
    nested: undefined,
  };
}
