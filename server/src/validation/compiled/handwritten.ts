import type { Constraint } from '@medplum/core';
import { capitalize, getDataType } from '@medplum/core';
import type { JsonObject } from './json';
import type { PropertyKeys } from './navigation';
import { children, choiceValues, empty, equalsLiteral, exists, keys } from './navigation';

/**
 * Plain-JS equivalents of the invariants that are evaluated on nearly every resource: ext-1 on each extension,
 * dom-2/4/5 on each DomainResource, the Narrative checks, and the invariants of the most frequent elements in
 * clinical feeds (Observation and its reference ranges, Condition, AllergyIntolerance, Appointment, Timing), and
 * inv-1 of each Parameters.parameter.
 * Through @medplum/core's FHIRPath engine each costs 5–40 µs per evaluation; these cost well under 1 µs. Each one reproduces the engine's result, including
 * its quirks (noted below); handwritten.test.ts compares them with the engine on real and mutated resources.
 *
 * They are keyed by key and expression, so a profile that reuses a key with another expression gets the engine.
 */
export type InvariantCheck = (value: unknown, resource: JsonObject) => boolean;

const CODING = keys('coding');
const SYSTEM = keys('system');
const CODE = keys('code');
const CONTAINED = keys('contained');
const META = keys('meta');
const EXTENSION = keys('extension');
const COMPONENT = keys('component');
const DATA_ABSENT_REASON = keys('dataAbsentReason');
const CLINICAL_STATUS = keys('clinicalStatus');
const VERIFICATION_STATUS = keys('verificationStatus');
const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const ALLERGY_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';
const LOW = keys('low');
const HIGH = keys('high');
const TEXT = keys('text');
const TYPE = keys('type');
const ACTOR = keys('actor');
const START = keys('start');
const END = keys('end');
const STATUS = keys('status');
const CANCELATION_REASON = keys('cancelationReason');
const PART = keys('part');
const RESOURCE = keys('resource');

/** `a.empty() or b.exists()`, the shape of most Timing.repeat invariants. */
const emptyOrExists =
  (a: PropertyKeys, b: PropertyKeys): InvariantCheck =>
  (value) =>
    empty(children([value], a)) || exists(children([value], b));

/** `status in (...)` (or `status = x or status = y`): true only for one status value in the list. */
function statusIn(value: unknown, codes: readonly string[]): boolean {
  return codes.some((code) => equalsLiteral(children([value], STATUS), code));
}

/** The JSON properties of a choice element (`value[x]` → valueBoolean, ...), in the element's type order. */
function choiceKeys(type: string, element: string): PropertyKeys[] {
  const prefix = element.slice(0, -3);
  return (getDataType(type).elements[element]?.type ?? []).map((t) => keys(prefix + capitalize(t.code)));
}

/** `contained.meta.<name>` */
function containedMeta(resource: unknown, name: string): unknown[] {
  return children(children(children([resource], CONTAINED), META), keys(name));
}

/** `<property>.coding.where(system = <system> and (code = <code> or ...))` */
function codingsWhere(input: unknown, property: PropertyKeys, system: string, codes: readonly string[]): unknown[] {
  return children(children([input], property), CODING).filter(
    (coding) =>
      equalsLiteral(children([coding], SYSTEM), system) &&
      codes.some((code) => equalsLiteral(children([coding], CODE), code))
  );
}

function factories(): Record<string, () => InvariantCheck> {
  const extensionValue = choiceKeys('Extension', 'value[x]');
  const observationValue = choiceKeys('Observation', 'value[x]');
  const abatement = choiceKeys('Condition', 'abatement[x]');
  const parameterValue = choiceKeys('ParametersParameter', 'value[x]');
  const conditionVerification = `system='${CONDITION_VERIFICATION}' and code='entered-in-error'`;
  const allergyVerification = `system = '${ALLERGY_VERIFICATION}' and code = 'entered-in-error'`;
  const inactive = `system='${CONDITION_CLINICAL}' and (code='resolved' or code='remission' or code='inactive')`;
  const enteredInError = ['entered-in-error'];
  const timing = (key: string, a: string, b: string): [string, () => InvariantCheck] => [
    `${key}|${a}.empty() or ${b}.exists()`,
    () => emptyOrExists(keys(a), keys(b)),
  ];
  return {
    ...Object.fromEntries([
      timing('tim-1', 'duration', 'durationUnit'),
      timing('tim-2', 'period', 'periodUnit'),
      timing('tim-6', 'periodMax', 'period'),
      timing('tim-7', 'durationMax', 'duration'),
      timing('tim-8', 'countMax', 'count'),
    ]),
    'tim-10|timeOfDay.empty() or when.empty()': () => (repeat) =>
      empty(children([repeat], keys('timeOfDay'))) || empty(children([repeat], keys('when'))),
    'obs-3|low.exists() or high.exists() or text.exists()': () => (range) =>
      exists(children([range], LOW)) || exists(children([range], HIGH)) || exists(children([range], TEXT)),
    'app-1|type.exists() or actor.exists()': () => (participant) =>
      exists(children([participant], TYPE)) || exists(children([participant], ACTOR)),
    'app-2|start.exists() = end.exists()': () => (appointment) =>
      exists(children([appointment], START)) === exists(children([appointment], END)),
    // An empty status makes the `in` empty, and `false or {}` is empty: not met.
    "app-3|(start.exists() and end.exists()) or (status in ('proposed' | 'cancelled' | 'waitlist'))":
      () => (appointment) =>
        (exists(children([appointment], START)) && exists(children([appointment], END))) ||
        statusIn(appointment, ['proposed', 'cancelled', 'waitlist']),
    "app-4|Appointment.cancelationReason.exists() implies (Appointment.status='noshow' or Appointment.status='cancelled')":
      () => (appointment) =>
        !exists(children([appointment], CANCELATION_REASON)) || statusIn(appointment, ['noshow', 'cancelled']),
    'ext-1|extension.exists() != value.exists()': () => (extension) =>
      exists(children([extension], EXTENSION)) !== exists(choiceValues(extension, extensionValue)),
    'dom-2|contained.contained.empty()': () => (resource) =>
      empty(children(children([resource], CONTAINED), CONTAINED)),
    'dom-4|contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()': () => (resource) =>
      empty(containedMeta(resource, 'versionId')) && empty(containedMeta(resource, 'lastUpdated')),
    'dom-5|contained.meta.security.empty()': () => (resource) => empty(containedMeta(resource, 'security')),
    // The engine's htmlChecks() does not inspect the XHTML: it is always true.
    'txt-1|htmlChecks()': () => () => true,
    'txt-2|htmlChecks()': () => () => true,
    // On every parameter and part of a Parameters: a bot's GuidanceResponse carries dozens, and through the
    // engine they made up nearly all of its validation (~1.4 ms).
    'inv-1|(part.exists() and value.empty() and resource.empty()) or (part.empty() and (value.exists() xor resource.exists()))':
      () => (parameter) => {
        const part = children([parameter], PART);
        const value = choiceValues(parameter, parameterValue);
        const resource = children([parameter], RESOURCE);
        return (exists(part) && empty(value) && empty(resource)) || (empty(part) && exists(value) !== exists(resource));
      },
    'obs-6|dataAbsentReason.empty() or value.empty()': () => (obs) =>
      empty(children([obs], DATA_ABSENT_REASON)) || empty(choiceValues(obs, observationValue)),
    'obs-7|value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()':
      () =>
      // The engine's intersect() compares by identity, so only the very same Coding object counts as shared.
      (obs, resource) => {
        if (empty(choiceValues(obs, observationValue))) {
          return true;
        }
        const own = new Set(children(children([resource], CODE), CODING));
        const codes = children(children([obs], COMPONENT), CODE);
        return !codes.some((code) => exists(children([code], CODING).filter((coding) => own.has(coding))));
      },
    [`con-4|abatement.empty() or clinicalStatus.coding.where(${inactive}).exists()`]: () => (condition) =>
      empty(choiceValues(condition, abatement)) ||
      exists(codingsWhere(condition, CLINICAL_STATUS, CONDITION_CLINICAL, ['resolved', 'remission', 'inactive'])),
    [`con-5|verificationStatus.coding.where(${conditionVerification}).empty() or clinicalStatus.empty()`]:
      () => (condition) =>
        empty(codingsWhere(condition, VERIFICATION_STATUS, CONDITION_VERIFICATION, enteredInError)) ||
        empty(children([condition], CLINICAL_STATUS)),
    [`ait-1|verificationStatus.coding.where(${allergyVerification}).exists() or clinicalStatus.exists()`]:
      () => (allergy) =>
        exists(codingsWhere(allergy, VERIFICATION_STATUS, ALLERGY_VERIFICATION, enteredInError)) ||
        exists(children([allergy], CLINICAL_STATUS)),
    [`ait-2|verificationStatus.coding.where(${allergyVerification}).empty() or clinicalStatus.empty()`]:
      () => (allergy) =>
        empty(codingsWhere(allergy, VERIFICATION_STATUS, ALLERGY_VERIFICATION, enteredInError)) ||
        empty(children([allergy], CLINICAL_STATUS)),
  };
}

let checks: Map<string, InvariantCheck | null> | undefined;
let pending: Record<string, () => InvariantCheck> | undefined;

/** The keys ('key|expression') of the invariants that have a hand-written equivalent. */
export function handwrittenIds(): string[] {
  pending ??= factories();
  return Object.keys(pending);
}

/** The hand-written equivalent of a constraint, or undefined when it has to go through the FHIRPath engine. */
export function handwrittenCheck(constraint: Constraint): InvariantCheck | undefined {
  checks ??= new Map();
  // Built on first use: the factories read choice types from the loaded StructureDefinitions.
  pending ??= factories();
  const id = `${constraint.key}|${constraint.expression}`;
  let check = checks.get(id);
  if (check === undefined) {
    check = pending[id]?.() ?? null;
    checks.set(id, check);
  }
  return check ?? undefined;
}
