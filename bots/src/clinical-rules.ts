/**
 * Clinical rules engine. Rules are PlanDefinitions (profile hale-clinical-rule; defaults in bots/rules/).
 *
 * - With an Observation as input (subscription on Observation create/update), or a batch of them (a history
 *   Bundle, for a Subscription with backport-max-count): evaluates the patient's active rules that read each
 *   one's code, except `missing` ones, over each rule's window ending at the reading.
 * - Without a resource input (daily cron): evaluates the `missing` rules for every patient they apply to.
 *
 * Each evaluation is kept as a GuidanceResponse; a fired rule raises a Flag + DetectedIssue, a Task or a
 * Communication (lib/rules/actions.ts). Idempotent: the same reading, or the same day's run, writes nothing new
 * (its GuidanceResponse says what it did).
 */
import type { BotEvent, MedplumClient } from '@medplum/core';
import type { Condition, GuidanceResponse, Observation, Parameters, Reference } from '@medplum/fhirtypes';
import type { Search } from './lib/batch';
import { chunks, createAllOnce, searchBatch } from './lib/batch';
import { activeConditions, activeConditionsSearch, activeOnly, patientsWithCondition } from './lib/conditions';
import type { BotContext } from './lib/fhir';
import {
  addDays,
  contextOf,
  findByKey,
  inputsOf,
  isCronInput,
  isoDay,
  keyIdentifier,
  keyQuery,
  referenceTo,
  searchAll,
  tokenList,
} from './lib/fhir';
import { effectiveTime, isUsable, patientOf, readingsBetween, readingsSearch } from './lib/observations';
import { planActions } from './lib/rules/actions';
import type { Reading } from './lib/rules/evaluate';
import { evaluate, toReading } from './lib/rules/evaluate';
import type { EvaluationRecord } from './lib/rules/record';
import { evaluationResponse } from './lib/rules/record';
import { BOT_KEY_SYSTEM } from './lib/vocabulary';
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
  const observations = inputsOf<Observation>(event, 'Observation');
  if (observations) {
    return evaluateObservations(ctx, observations);
  }
  if (isCronInput(event.input)) {
    return evaluateMissing(ctx);
  }
  return { evaluated: [], skipped: 'input is neither an Observation, a batch of them nor a cron run' };
}

/** One rule to evaluate over one reading's window. */
interface Pending {
  readonly rule: ClinicalRule;
  readonly patient: string;
  readonly obs: Observation;
  readonly time: number;
  readonly current?: Reading;
  readonly key: string;
}

/**
 * The readings of one event or of a batch. Every read the batch needs (the patients' conditions, the readings in
 * the windows, the evaluations already kept) goes in one batch request and every GuidanceResponse in one
 * transaction, so a batch of a hundred readings costs a handful of requests rather than several per reading.
 */
async function evaluateObservations(
  ctx: BotContext,
  observations: readonly Observation[]
): Promise<ClinicalRulesResult> {
  const usable = observations.filter(
    (o) => patientOf(o) !== undefined && o.id && effectiveTime(o) !== undefined && isUsable(o)
  );
  if (usable.length === 0) {
    return { evaluated: [], skipped: 'not a usable patient Observation with a time' };
  }
  const rules = (await loadRules(ctx.medplum)).filter((r) => r.operator !== 'missing');
  const candidates = usable.flatMap((obs) => {
    const time = effectiveTime(obs) ?? 0;
    // A reading older than the rule's window (a late sync, an import) says nothing about now.
    return rules
      .filter((rule) => readsObservation(rule, obs) && time >= addDays(ctx.now, -rule.windowDays).getTime())
      .map((rule) => pendingOf(rule, obs, time));
  });
  if (candidates.length === 0) {
    return { evaluated: [] };
  }
  const seen = await readForBatch(ctx, candidates);
  // In the batch's order, one evaluation per key: the same reading twice (a create and an unchanged update)
  // is evaluated once, and one evaluated before (a second delivery) is what it did then.
  const order: string[] = [];
  const seenKeys = new Set<string>();
  const outcomes = new Map<string, RuleOutcome>();
  const toDecide: Decision[] = [];
  for (const p of candidates) {
    if (!appliesTo(p.rule, p.patient, seen.conditions.get(p.patient) ?? [])) {
      continue;
    }
    order.push(p.key);
    if (seenKeys.has(p.key)) {
      continue;
    }
    seenKeys.add(p.key);
    const recorded = seen.recorded.get(p.key);
    if (recorded) {
      outcomes.set(p.key, recordedOutcome(p.rule, p.patient, recorded));
      continue;
    }
    toDecide.push({
      rule: p.rule,
      patient: p.patient,
      readings: windowOf(p, seen.readings),
      key: p.key,
      ...(p.current ? { current: p.current } : {}),
    });
  }
  for (const outcome of await decideAndKeep(ctx, toDecide)) {
    outcomes.set(outcome.key, outcome.outcome);
  }
  return { evaluated: order.flatMap((k) => outcomes.get(k) ?? []) };
}

function pendingOf(rule: ClinicalRule, obs: Observation, time: number): Pending {
  const current = toReading(rule, obs);
  const patient = patientOf(obs) ?? '';
  // Keyed by the reading's values too: a corrected value is evaluated again, an unchanged one never.
  const key = `clinical-rule/${rule.id}/Observation/${obs.id}/${time}/${current?.value ?? ''}/${current?.second ?? ''}`;
  return { rule, patient, obs, time, key, ...(current ? { current } : {}) };
}

/** A reading found in a window search, with its effective time. */
interface Timed {
  readonly obs: Observation;
  readonly time: number;
}

interface BatchReads {
  /** Active conditions of each patient a focused rule needs. */
  readonly conditions: ReadonlyMap<string, Condition[]>;
  /** Readings by metric (tokenList of the rule's codes), then by patient, with their times: windowOf picks. */
  readonly readings: ReadonlyMap<string, ReadonlyMap<string, readonly Timed[]>>;
  /** GuidanceResponses already kept, by key. */
  readonly recorded: ReadonlyMap<string, GuidanceResponse>;
}

/** Everything the batch's evaluations read, in one batch request. */
async function readForBatch(ctx: BotContext, candidates: readonly Pending[]): Promise<BatchReads> {
  const searches: Search[] = [];
  const focused = [...new Set(candidates.filter((p) => p.rule.focus.length > 0).map((p) => p.patient))];
  const conditionSearches = chunks(focused).map((patients) => activeConditionsSearch(patients.join(',')));
  searches.push(...conditionSearches);
  const windows = new Map<string, { codes: ClinicalRule['metric']; patients: Set<string>; from: number; to: number }>();
  for (const p of candidates) {
    const metric = tokenList(p.rule.metric);
    const from = addDays(new Date(p.time), -p.rule.windowDays).getTime();
    const w = windows.get(metric) ?? { codes: p.rule.metric, patients: new Set<string>(), from, to: p.time };
    w.patients.add(p.patient);
    w.from = Math.min(w.from, from);
    w.to = Math.max(w.to, p.time);
    windows.set(metric, w);
  }
  const windowSearches: { metric: string; search: Search }[] = [];
  for (const [metric, w] of windows) {
    for (const patients of chunks([...w.patients])) {
      windowSearches.push({
        metric,
        search: readingsSearch(patients.join(','), w.codes, new Date(w.from), new Date(w.to)),
      });
    }
  }
  searches.push(...windowSearches.map((w) => w.search));
  const keySearches = chunks([...new Set(candidates.map((p) => p.key))]).map((keys): Search => ({
    resourceType: 'GuidanceResponse',
    query: [
      ['identifier', keys.map((k) => `${BOT_KEY_SYSTEM}|${k}`).join(',')],
      ['_count', String(keys.length * 2)],
    ],
  }));
  searches.push(...keySearches);
  const results = await searchBatch(ctx.medplum, searches);
  let i = 0;
  const conditions = new Map<string, Condition[]>();
  for (const found of results.slice(i, (i += conditionSearches.length))) {
    for (const c of activeOnly(found as Condition[])) {
      const ref = c.subject?.reference ?? '';
      conditions.set(ref, [...(conditions.get(ref) ?? []), c]);
    }
  }
  // Grouped by patient, each time read once: a batch of a hundred readings of a hundred patients has thousands in
  // its windows, and scanning them all for each reading was most of the bot's own time.
  const readings = new Map<string, Map<string, Timed[]>>();
  for (const [j, found] of results.slice(i, (i += windowSearches.length)).entries()) {
    const metric = windowSearches[j]?.metric ?? '';
    const byPatient = readings.get(metric) ?? new Map<string, Timed[]>();
    readings.set(metric, byPatient);
    for (const obs of found as Observation[]) {
      const patient = patientOf(obs);
      const time = effectiveTime(obs);
      if (patient !== undefined && time !== undefined) {
        const list = byPatient.get(patient);
        if (list) {
          list.push({ obs, time });
        } else {
          byPatient.set(patient, [{ obs, time }]);
        }
      }
    }
  }
  const recorded = new Map<string, GuidanceResponse>();
  for (const found of results.slice(i)) {
    for (const r of found as GuidanceResponse[]) {
      const key = r.requestIdentifier?.system === BOT_KEY_SYSTEM ? r.requestIdentifier.value : undefined;
      if (key) {
        recorded.set(key, r);
      }
    }
  }
  return { conditions, readings, recorded };
}

/** The pending evaluation's window: the patient's readings of the rule's metric up to the reading, oldest first. */
function windowOf(p: Pending, readings: BatchReads['readings']): Reading[] {
  const from = addDays(new Date(p.time), -p.rule.windowDays).getTime();
  const inWindow = (readings.get(tokenList(p.rule.metric))?.get(p.patient) ?? []).filter(
    (r) => r.time >= from && r.time <= p.time && readsObservation(p.rule, r.obs)
  );
  const window = inWindow.flatMap((r) => toReading(p.rule, r.obs) ?? []);
  if (p.current && !window.some((r) => r.ref === p.current?.ref)) {
    window.push(p.current);
  }
  return window.sort((a, b) => a.time - b.time);
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
  key: string
): Promise<RuleOutcome> {
  // Evaluated before (a second delivery): what it did then. Acting again could open a new episode once the
  // first one's result was resolved, or, for an evaluation that lost a race to open an episode, a second one.
  const recorded = (await findByKey<GuidanceResponse>(ctx.medplum, 'GuidanceResponse', key))[0];
  if (recorded) {
    return recordedOutcome(rule, patient, recorded);
  }
  const [kept] = await decideAndKeep(ctx, [{ rule, patient, readings, key }]);
  if (!kept) {
    throw new Error(`evaluation ${key} was not kept`);
  }
  return kept.outcome;
}

/** One evaluation to make: the rule over the patient's readings, and the reading that started it, if any. */
interface Decision {
  readonly rule: ClinicalRule;
  readonly patient: string;
  readonly readings: readonly Reading[];
  readonly key: string;
  readonly current?: Reading;
}

/**
 * Evaluates each rule; the fired ones take their actions (or find their episodes' open results) through one batch
 * of searches; then every new result and every evaluation's GuidanceResponse go in one transaction, so an
 * evaluation is never kept without its action nor an action written without its evaluation.
 */
async function decideAndKeep(
  ctx: BotContext,
  decisions: readonly Decision[]
): Promise<{ key: string; outcome: RuleOutcome }[]> {
  if (decisions.length === 0) {
    return [];
  }
  const evaluated = decisions.map((d) => {
    const trigger: Reference<Observation> | undefined = d.current ? { reference: d.current.ref } : undefined;
    return { ...d, evaluation: evaluate(d.rule, d.readings, d.current), ...(trigger ? { trigger } : {}) };
  });
  const fired = evaluated.filter((e) => e.evaluation.triggered);
  const plan = await planActions(
    ctx.medplum,
    fired.map((e) => ({
      medplum: ctx.medplum,
      now: ctx.now,
      rule: e.rule,
      patient: e.patient,
      evaluation: e.evaluation,
      evaluationKey: e.key,
      ...(e.trigger ? { trigger: e.trigger } : {}),
    }))
  );
  let next = 0;
  const records: EvaluationRecord[] = evaluated.map((e) => ({
    rule: e.rule,
    patient: e.patient,
    evaluation: e.evaluation,
    now: ctx.now,
    key: e.key,
    actions: e.evaluation.triggered ? (plan.actions[next++] ?? []) : [],
    ...(e.trigger ? { trigger: e.trigger } : {}),
  }));
  const written = await createAllOnce(ctx.medplum, [
    ...plan.writes,
    ...records.map((record) => ({
      resource: { ...evaluationResponse(record), identifier: [keyIdentifier(record.key)] },
      ifNoneExist: keyQuery(record.key),
    })),
  ]);
  // The new results' fullUrls become what they were stored as (a new resource, or the one a race left first).
  const stored = new Map(plan.writes.map((w, i) => [w.fullUrl, written[i]?.reference ?? w.fullUrl]));
  return records.map((record, i) => ({
    key: record.key,
    outcome: outcomeOf(
      { ...record, actions: record.actions.map((a) => ({ reference: stored.get(a.reference ?? '') ?? a.reference })) },
      written[plan.writes.length + i]?.reference ?? ''
    ),
  }));
}

function outcomeOf(record: EvaluationRecord, guidanceResponse: string): RuleOutcome {
  return {
    rule: record.rule.ref,
    patient: record.patient,
    triggered: record.evaluation.triggered,
    guidanceResponse,
    actions: record.actions.map((a) => a.reference ?? ''),
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
