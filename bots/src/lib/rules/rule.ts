/**
 * A clinical rule as the engine uses it, read from a PlanDefinition of profile hale-clinical-rule (see
 * docs/bots.md, "Clinical rules engine", for the resource shape).
 */
import type { MedplumClient } from '@medplum/core';
import type {
  CodeableConcept,
  Coding,
  Condition,
  Extension,
  Observation,
  PlanDefinition,
  PlanDefinitionAction,
  Quantity,
  RelatedArtifact,
} from '@medplum/fhirtypes';
import { hasAnyCondition } from '../conditions';
import { anyCodingIn, refOf, searchPages } from '../fhir';
import type { RuleAction, RuleOperator, RuleSeverity } from '../vocabulary';
import {
  EXT,
  LOINC,
  LOINC_CODE,
  PLAN_DEFINITION_TYPE,
  RULE_ACTIONS,
  RULE_OPERATORS,
  RULE_SEVERITIES,
  SYSTEM,
} from '../vocabulary';

export type Priority = NonNullable<PlanDefinitionAction['priority']>;

export interface ClinicalRule {
  /** `PlanDefinition/id`. */
  readonly ref: string;
  readonly id: string;
  /** Canonical URL, with `|version` when the rule has one (GuidanceResponse.moduleCanonical). */
  readonly canonical: string;
  readonly title: string;
  /** Observation codes the rule reads (action.input.codeFilter). */
  readonly metric: readonly Coding[];
  readonly windowDays: number;
  readonly operator: RuleOperator;
  readonly threshold?: Quantity;
  readonly component?: Coding;
  readonly secondThreshold?: Quantity;
  readonly secondComponent?: Coding;
  readonly occurrences: number;
  readonly severity: RuleSeverity;
  readonly priority: Priority;
  readonly action: RuleAction;
  readonly description?: string;
  readonly documentation: readonly RelatedArtifact[];
  /** action.participant[0]: who a Task is for; `patient` makes the patient its owner. */
  readonly participantType?: string;
  readonly performerType?: CodeableConcept;
  /** useContext focus: the rule applies only to patients with one of these conditions. */
  readonly focus: readonly Coding[];
  /** clinical-rule-patient: the one patient the rule applies to. */
  readonly patient?: string;
}

const part = (ext: Extension | undefined, url: string): Extension | undefined =>
  ext?.extension?.find((e) => e.url === url);

const isOneOf = <T extends string>(values: readonly T[], value: unknown): value is T =>
  (values as readonly unknown[]).includes(value);

/** The rule a PlanDefinition holds, or undefined when it is not a usable hale-clinical-rule. */
export function parseRule(pd: PlanDefinition): ClinicalRule | undefined {
  const action = pd.action?.[0];
  const criterion = action?.condition?.[0]?.extension?.find((e) => e.url === EXT.criterion);
  const operator = part(criterion, 'operator')?.valueCode;
  const actionCode = action?.code?.[0]?.coding?.find((c) => c.system === SYSTEM.ruleAction)?.code;
  const input = action?.input?.[0];
  const metric = (input?.codeFilter ?? []).filter((f) => f.path === 'code').flatMap((f) => f.code ?? []);
  const window = input?.dateFilter?.find((f) => f.path === 'effective')?.valueDuration;
  const threshold = part(criterion, 'threshold')?.valueQuantity;
  if (
    !pd.id ||
    !pd.url ||
    !action ||
    !isOneOf(RULE_OPERATORS, operator) ||
    !isOneOf(RULE_ACTIONS, actionCode) ||
    metric.length === 0 ||
    window?.code !== 'd' ||
    !window.value ||
    (operator !== 'missing' && threshold?.value === undefined)
  ) {
    return undefined;
  }
  const severity = part(criterion, 'severity')?.valueCode;
  return {
    ref: refOf(pd),
    id: pd.id,
    canonical: pd.version ? `${pd.url}|${pd.version}` : pd.url,
    title: pd.title ?? pd.name ?? pd.url,
    metric,
    windowDays: window.value,
    operator,
    ...optional('threshold', threshold),
    ...optional('component', part(criterion, 'component')?.valueCoding),
    ...optional('secondThreshold', part(criterion, 'secondThreshold')?.valueQuantity),
    ...optional('secondComponent', part(criterion, 'secondComponent')?.valueCoding),
    occurrences: part(criterion, 'occurrences')?.valuePositiveInt ?? 1,
    severity: isOneOf(RULE_SEVERITIES, severity) ? severity : 'warn',
    priority: action.priority ?? 'routine',
    action: actionCode,
    ...optional('description', action.description ?? pd.description),
    documentation: action.documentation ?? [],
    ...optional('participantType', action.participant?.[0]?.type),
    ...optional('performerType', action.participant?.[0]?.role),
    focus: (pd.useContext ?? [])
      .filter((u) => u.code.code === 'focus')
      .flatMap((u) => u.valueCodeableConcept?.coding ?? []),
    ...optional('patient', pd.extension?.find((e) => e.url === EXT.rulePatient)?.valueReference?.reference),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Every active clinical rule (PlanDefinitions of type eca-rule that parse as one). */
export async function loadRules(medplum: MedplumClient): Promise<ClinicalRule[]> {
  const rules: ClinicalRule[] = [];
  const query = [
    ['type', `${PLAN_DEFINITION_TYPE}|eca-rule`],
    ['status', 'active'],
    ['_count', '500'],
  ];
  for await (const page of searchPages(medplum, 'PlanDefinition', query)) {
    for (const pd of page) {
      const rule = parseRule(pd);
      if (rule) {
        rules.push(rule);
      } else {
        console.log(`clinical-rules: ${refOf(pd)} is not a usable hale-clinical-rule; skipped`);
      }
    }
  }
  return rules;
}

/** The rule reads this Observation's code. */
export function readsObservation(rule: ClinicalRule, obs: Observation): boolean {
  return anyCodingIn(obs.code, rule.metric);
}

/** The rule applies to the patient: its patient restriction and focus conditions allow them. */
export function appliesTo(rule: ClinicalRule, patient: string, conditions: readonly Condition[]): boolean {
  if (rule.patient && rule.patient !== patient) {
    return false;
  }
  return rule.focus.length === 0 || hasAnyCondition(conditions, rule.focus);
}

/** mmol/L ↔ mg/dL is converted only for glucose metrics, where the molar mass is known. */
export function isGlucoseRule(rule: ClinicalRule): boolean {
  const glucose: readonly string[] = [LOINC_CODE.glucoseBlood, LOINC_CODE.glucoseSerum, LOINC_CODE.fastingGlucose];
  return rule.metric.some((c) => c.system === LOINC && glucose.includes(c.code ?? ''));
}
