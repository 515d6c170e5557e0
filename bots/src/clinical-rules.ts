/**
 * Clinical rules engine. Rules are PlanDefinitions (profile hale-clinical-rule; defaults in bots/rules/).
 *
 * - With an Observation as input (subscription on Observation create/update): evaluates the patient's active
 *   rules that read its code, except `missing` ones, over each rule's window ending at the reading.
 * - Without a resource input (daily cron): evaluates the `missing` rules for every patient they apply to.
 *
 * Each evaluation is kept as a GuidanceResponse; a fired rule raises a Flag + DetectedIssue, a Task or a
 * Communication (lib/rules/actions.ts). Idempotent: the same reading, or the same day's run, writes nothing new
 * (its GuidanceResponse says what it did).
 */
import type { BotEvent, MedplumClient } from '@medplum/core';
import type { Condition, GuidanceResponse, Observation, Parameters, Reference } from '@medplum/fhirtypes';
import { activeConditions, patientsWithCondition } from './lib/conditions';
import type { BotContext } from './lib/fhir';
import { addDays, contextOf, findByKey, inputOf, isCronInput, isoDay, referenceTo, searchAll } from './lib/fhir';
import { effectiveTime, isUsable, patientOf, readingsBetween } from './lib/observations';
import { act } from './lib/rules/actions';
import type { Reading } from './lib/rules/evaluate';
import { evaluate, toReading } from './lib/rules/evaluate';
import { recordEvaluation } from './lib/rules/record';
import type { ClinicalRule } from './lib/rules/rule';
import { appliesTo, loadRules, readsObservation } from './lib/rules/rule';

export interface RuleOutcome {
  readonly rule: string;
  readonly patient: string;
  readonly triggered: boolean;
  readonly guidanceResponse: string;
  readonly actions: readonly string[];
}

export interface ClinicalRulesResult {
  readonly evaluated: readonly RuleOutcome[];
  readonly skipped?: string;
}

export async function handler(medplum: MedplumClient, event: BotEvent): Promise<ClinicalRulesResult> {
  const ctx = contextOf(medplum, event);
  const obs = inputOf<Observation>(event, 'Observation');
  if (obs) {
    return evaluateObservation(ctx, obs);
  }
  if (isCronInput(event.input)) {
    return evaluateMissing(ctx);
  }
  return { evaluated: [], skipped: 'input is neither an Observation nor a cron run' };
}

async function evaluateObservation(ctx: BotContext, obs: Observation): Promise<ClinicalRulesResult> {
  const patient = patientOf(obs);
  const time = effectiveTime(obs);
  if (!patient || !obs.id || time === undefined || !isUsable(obs)) {
    return { evaluated: [], skipped: 'not a usable patient Observation with a time' };
  }
  const rules = (await loadRules(ctx.medplum)).filter((r) => r.operator !== 'missing' && readsObservation(r, obs));
  let conditions: Condition[] | undefined;
  const evaluated: RuleOutcome[] = [];
  for (const rule of rules) {
    // A reading older than the rule's window (a late sync, an import) says nothing about now.
    if (time < addDays(ctx.now, -rule.windowDays).getTime()) {
      continue;
    }
    conditions ??= rule.focus.length > 0 ? await activeConditions(ctx.medplum, patient) : undefined;
    if (!appliesTo(rule, patient, conditions ?? [])) {
      continue;
    }
    evaluated.push(await evaluateReading(ctx, rule, patient, obs, time));
  }
  return { evaluated };
}

async function evaluateReading(
  ctx: BotContext,
  rule: ClinicalRule,
  patient: string,
  obs: Observation,
  time: number
): Promise<RuleOutcome> {
  const end = new Date(time);
  const window = await readingsBetween(ctx.medplum, patient, rule.metric, addDays(end, -rule.windowDays), end);
  const readings = window.flatMap((o) => toReading(rule, o) ?? []);
  const current = toReading(rule, obs);
  if (current && !readings.some((r) => r.ref === current.ref)) {
    readings.push(current);
    readings.sort((a, b) => a.time - b.time);
  }
  // Keyed by the reading's values too: a corrected value is evaluated again, an unchanged one never.
  const key = `clinical-rule/${rule.id}/Observation/${obs.id}/${time}/${current?.value ?? ''}/${current?.second ?? ''}`;
  return conclude(ctx, rule, patient, readings, key, current);
}

/** The daily run: `missing` rules, for the patients each applies to (one evaluation per rule, patient and day). */
async function evaluateMissing(ctx: BotContext): Promise<ClinicalRulesResult> {
  const rules = (await loadRules(ctx.medplum)).filter((r) => r.operator === 'missing');
  const evaluated: RuleOutcome[] = [];
  for (const rule of rules) {
    for (const patient of await patientsOf(ctx, rule)) {
      const window = await readingsBetween(
        ctx.medplum,
        patient,
        rule.metric,
        addDays(ctx.now, -rule.windowDays),
        ctx.now
      );
      const readings = window.flatMap((o) => toReading(rule, o) ?? []);
      const key = `clinical-rule/${rule.id}/${patient}/${isoDay(ctx.now)}`;
      evaluated.push(await conclude(ctx, rule, patient, readings, key));
    }
  }
  return { evaluated };
}

async function patientsOf(ctx: BotContext, rule: ClinicalRule): Promise<string[]> {
  if (rule.patient) {
    const conditions = rule.focus.length > 0 ? await activeConditions(ctx.medplum, rule.patient) : [];
    return appliesTo(rule, rule.patient, conditions) ? [rule.patient] : [];
  }
  if (rule.focus.length > 0) {
    return patientsWithCondition(ctx.medplum, rule.focus);
  }
  const patients = await searchAll(ctx.medplum, 'Patient', [['_elements', 'id']], 100_000);
  return patients.map((p) => `Patient/${p.id}`);
}

async function conclude(
  ctx: BotContext,
  rule: ClinicalRule,
  patient: string,
  readings: readonly Reading[],
  key: string,
  current?: Reading
): Promise<RuleOutcome> {
  // Evaluated before (a second delivery): what it did then. Acting again could open a new episode once the
  // first one's result was resolved, or, for an evaluation that lost a race to open an episode, a second one.
  const recorded = (await findByKey<GuidanceResponse>(ctx.medplum, 'GuidanceResponse', key))[0];
  if (recorded) {
    return recordedOutcome(rule, patient, recorded);
  }
  const evaluation = evaluate(rule, readings, current);
  const trigger: Reference<Observation> | undefined = current ? { reference: current.ref } : undefined;
  const actions = evaluation.triggered
    ? await act({
        medplum: ctx.medplum,
        now: ctx.now,
        rule,
        patient,
        evaluation,
        evaluationKey: key,
        ...(trigger ? { trigger } : {}),
      })
    : [];
  const response = await recordEvaluation(ctx.medplum, {
    rule,
    patient,
    evaluation,
    now: ctx.now,
    key,
    actions,
    ...(trigger ? { trigger } : {}),
  });
  return {
    rule: rule.ref,
    patient,
    triggered: evaluation.triggered,
    guidanceResponse: referenceTo(response).reference ?? '',
    actions: actions.map((a) => a.reference ?? ''),
  };
}

function recordedOutcome(rule: ClinicalRule, patient: string, response: GuidanceResponse): RuleOutcome {
  const output = response.contained?.find((c): c is Parameters => c.resourceType === 'Parameters');
  const parameters = output?.parameter ?? [];
  return {
    rule: rule.ref,
    patient,
    triggered: parameters.find((p) => p.name === 'triggered')?.valueBoolean === true,
    guidanceResponse: referenceTo(response).reference ?? '',
    actions: parameters.flatMap((p) =>
      p.name === 'action' && p.valueReference?.reference ? [p.valueReference.reference] : []
    ),
  };
}
