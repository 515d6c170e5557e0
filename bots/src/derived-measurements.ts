/**
 * Derived measurements, on a new or changed Observation (subscription on Observation create/update):
 *
 * - BMI (LOINC 39156-5, kg/m2) from the latest body weight (29463-7) and height (8302-2), derivedFrom both; then
 *   the weight-management eligibility Flag: BMI ≥ 30, or ≥ 27 with a weight-related condition.
 * - HRV RMSSD estimated from SDNN (80404-7) when only SDNN arrives, marked derived (derivedFrom, method).
 *
 * Idempotent (keyed by the source Observation; a corrected source updates the derived value), and never derives
 * from a derived value.
 */
import type { BotEvent, MedplumClient } from '@medplum/core';
import type { Coding, Flag, Observation } from '@medplum/fhirtypes';
import { activeConditions, hasAnyCondition, WEIGHT_RELATED } from './lib/conditions';
import type { BotContext } from './lib/fhir';
import { codingIn, contextOf, createOnce, findByKey, inputOf, refOf, referenceTo, upsertByKey } from './lib/fhir';
import { effectiveTime, isDerived, isUsable, latestReading, patientOf } from './lib/observations';
import { round, ucum, valueIn } from './lib/quantity';
import { FLAG_CATEGORY, FLAG_DETAIL_EXT, LOINC, LOINC_CODE, OBSERVATION_CATEGORY, SYSTEM } from './lib/vocabulary';

const WEIGHT: Coding = { system: LOINC, code: LOINC_CODE.bodyWeight };
const HEIGHT: Coding = { system: LOINC, code: LOINC_CODE.bodyHeight };
const SDNN: Coding = { system: LOINC, code: LOINC_CODE.sdnn };
const RMSSD: Coding = { system: SYSTEM.observationCode, code: 'hrv-rmssd' };

/** RMSSD/SDNN of the mean short-term resting values in healthy adults (42 ms / 50 ms, Nunan et al. 2010). */
export const RMSSD_PER_SDNN = 0.84;

export interface DerivedResult {
  readonly derived: readonly string[];
  readonly eligibility?: 'flagged' | 'unflagged' | 'unchanged';
  readonly skipped?: string;
}

export async function handler(medplum: MedplumClient, event: BotEvent): Promise<DerivedResult> {
  const ctx = contextOf(medplum, event);
  const obs = inputOf<Observation>(event, 'Observation');
  const patient = obs && patientOf(obs);
  if (!obs?.id || !patient || !isUsable(obs)) {
    return { derived: [], skipped: 'not a usable patient Observation' };
  }
  if (isDerived(obs)) {
    return { derived: [], skipped: 'derived values are not derived from' };
  }
  if (codingIn(obs.code, WEIGHT) || codingIn(obs.code, HEIGHT)) {
    return deriveBmi(ctx, obs, patient);
  }
  if (codingIn(obs.code, SDNN)) {
    return deriveRmssd(ctx, obs, patient);
  }
  return { derived: [], skipped: 'nothing is derived from this code' };
}

/** BMI for the weight (the input, or the latest), with the latest height: an adult's height rarely changes. */
async function deriveBmi(ctx: BotContext, obs: Observation, patient: string): Promise<DerivedResult> {
  const isWeight = codingIn(obs.code, WEIGHT);
  const weight = isWeight ? obs : await latestReading(ctx.medplum, patient, [WEIGHT]);
  const height = isWeight ? await latestReading(ctx.medplum, patient, [HEIGHT]) : obs;
  const kg = valueIn(weight?.valueQuantity, 'kg');
  const m = valueIn(height?.valueQuantity, 'm');
  if (!weight?.id || !height?.id || kg === undefined || m === undefined || m < 0.3 || m > 2.8 || kg <= 0) {
    return { derived: [], skipped: 'no usable weight and height' };
  }
  const bmi = round(kg / (m * m), 1);
  const observation: Observation = {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'vital-signs' }] }],
    code: { coding: [{ system: LOINC, code: LOINC_CODE.bmi, display: 'Body mass index (BMI) [Ratio]' }], text: 'BMI' },
    subject: { reference: patient },
    effectiveDateTime: new Date(effectiveTime(weight) ?? ctx.now.getTime()).toISOString(),
    valueQuantity: ucum(bmi, 'kg/m2'),
    derivedFrom: [referenceTo(weight), referenceTo(height)],
    method: { text: 'Calculated: weight (kg) / height (m) squared' },
  };
  const { resource } = await upsertByKey(
    ctx.medplum,
    observation,
    `derived/bmi/${refOf(weight)}`,
    (stored) => sameDerivation(stored, observation),
    amended
  );
  const latest = await latestReading(ctx.medplum, patient, [WEIGHT]);
  // Eligibility follows the latest weight only: an imported old weight must not flip today's flag.
  const eligibility = latest?.id === weight.id ? await updateEligibility(ctx, patient, resource, bmi) : 'unchanged';
  return { derived: [refOf(resource)], eligibility };
}

function sameDerivation(stored: Observation, fresh: Observation): boolean {
  return (
    stored.valueQuantity?.value === fresh.valueQuantity?.value &&
    JSON.stringify(stored.derivedFrom) === JSON.stringify(fresh.derivedFrom) &&
    effectiveTime(stored) === effectiveTime(fresh)
  );
}

const amended = (obs: Observation): Observation => ({ ...obs, status: 'amended' });

/** One active eligibility Flag per patient, pointing (flag-detail) to the BMI it rests on. */
async function updateEligibility(
  ctx: BotContext,
  patient: string,
  bmiObs: Observation & { id: string },
  bmi: number
): Promise<'flagged' | 'unflagged' | 'unchanged'> {
  const key = `weight-management-eligibility/${patient}`;
  const active = (await findByKey<Flag>(ctx.medplum, 'Flag', key)).filter((f) => f.status === 'active');
  const eligible =
    bmi >= 30 || (bmi >= 27 && hasAnyCondition(await activeConditions(ctx.medplum, patient), WEIGHT_RELATED));
  if (eligible && active.length === 0) {
    const flag: Flag = {
      resourceType: 'Flag',
      status: 'active',
      category: [{ coding: [{ system: FLAG_CATEGORY, code: 'clinical' }] }],
      code: {
        coding: [{ system: SYSTEM.flagCode, code: 'weight-management-eligible' }],
        text: 'Eligible for a weight-management program',
      },
      subject: { reference: patient },
      period: { start: ctx.now.toISOString() },
      extension: [{ url: FLAG_DETAIL_EXT, valueReference: referenceTo(bmiObs) }],
    };
    await createOnce(ctx.medplum, flag, `${key}/${refOf(bmiObs)}/${bmi}`, key);
    return 'flagged';
  }
  if (!eligible && active.length > 0) {
    for (const flag of active) {
      await ctx.medplum.updateResource({
        ...flag,
        status: 'inactive',
        period: { ...flag.period, end: ctx.now.toISOString() },
      });
    }
    return 'unflagged';
  }
  return 'unchanged';
}

/** RMSSD estimated from SDNN, unless RMSSD was measured with it (a component, or an Observation within an hour). */
async function deriveRmssd(ctx: BotContext, obs: Observation, patient: string): Promise<DerivedResult> {
  const sdnn = valueIn(obs.valueQuantity, 'ms');
  const time = effectiveTime(obs);
  if (sdnn === undefined || time === undefined || sdnn <= 0) {
    return { derived: [], skipped: 'no SDNN value in ms' };
  }
  if ((obs.component ?? []).some((c) => codingIn(c.code, RMSSD)) || (await measuredRmssdNear(ctx, patient, time))) {
    return { derived: [], skipped: 'RMSSD was measured' };
  }
  const estimate: Observation = {
    resourceType: 'Observation',
    status: 'final',
    ...(obs.category ? { category: obs.category } : {}),
    code: { coding: [{ ...RMSSD, display: 'Heart rate variability, RMSSD' }], text: 'HRV RMSSD (estimated from SDNN)' },
    subject: { reference: patient },
    ...(obs.effectiveDateTime ? { effectiveDateTime: obs.effectiveDateTime } : {}),
    ...(obs.effectivePeriod ? { effectivePeriod: obs.effectivePeriod } : {}),
    ...(obs.effectiveInstant ? { effectiveInstant: obs.effectiveInstant } : {}),
    valueQuantity: ucum(round(sdnn * RMSSD_PER_SDNN, 1), 'ms'),
    derivedFrom: [referenceTo(obs)],
    method: {
      text:
        `Estimate, not a measurement: RMSSD ≈ ${RMSSD_PER_SDNN} × SDNN, from the SDNN in ${refOf(obs)}. ` +
        'The factor is the ratio of the mean short-term resting values in healthy adults (RMSSD 42 ms, SDNN 50 ms; ' +
        'Nunan, Sandercock and Brodie, Pacing Clin Electrophysiol 2010;33:1407-17). Individuals vary widely.',
    },
  };
  const { resource } = await upsertByKey(
    ctx.medplum,
    estimate,
    `derived/rmssd/${refOf(obs)}`,
    (stored) => sameDerivation(stored, estimate),
    amended
  );
  return { derived: [refOf(resource)] };
}

async function measuredRmssdNear(ctx: BotContext, patient: string, time: number): Promise<boolean> {
  const hour = 60 * 60 * 1000;
  const found = await ctx.medplum.searchResources('Observation', [
    ['subject', patient],
    ['code', `${RMSSD.system}|${RMSSD.code}`],
    ['date', `ge${new Date(time - hour).toISOString()}`],
    ['date', `le${new Date(time + hour).toISOString()}`],
  ]);
  return found.some((o) => !isDerived(o));
}
