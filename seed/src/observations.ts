/**
 * Vital-sign and laboratory Observations (with UCUM quantities, reference ranges and H/L
 * interpretations) and the DiagnosticReports that group lab results into panels.
 */
import type {
  CodeableConcept,
  DiagnosticReport,
  Encounter,
  Observation,
  ObservationReferenceRange,
  Organization,
  Patient,
  Quantity,
  Reference,
} from '@medplum/fhirtypes';
import { SYSTEM, coding, type Concept } from './codes';
import type { EntryList } from './entries';
import {
  ANALYTES,
  BLOOD_PRESSURE,
  OXYGEN_SATURATION_GENERIC,
  PANELS,
  VITALS,
  type PanelKey,
  type QuantityDefinition,
  type Range,
  type VitalKey,
} from './measures';
import type { Physiology } from './physiology';

export interface MeasurementContext {
  readonly patient: Reference<Patient>;
  readonly encounter: Reference<Encounter>;
  readonly performer: Reference<Organization>;
  readonly sex: 'male' | 'female';
  /** When the measurement was taken (dateTime) and, for labs, when the result was released (instant). */
  readonly effective: string;
  readonly issued: string;
  readonly ms: number;
}

export interface VisitCondition {
  /** Acutely ill: raises heart and respiratory rate, lowers SpO2. */
  readonly unwell: boolean;
  readonly febrile: boolean;
}

const DECIMAL_SCALE = [1, 10, 100, 1000];

function round(value: number, decimals: number): number {
  const scale = DECIMAL_SCALE[decimals] ?? 1;
  return Math.round(value * scale) / scale;
}

function quantity(definition: QuantityDefinition, value: number): Quantity {
  return {
    value: round(value, definition.decimals),
    unit: definition.unit,
    system: SYSTEM.ucum,
    code: definition.ucum,
  };
}

function category(code: 'vital-signs' | 'laboratory'): CodeableConcept[] {
  const display = code === 'vital-signs' ? 'Vital Signs' : 'Laboratory';
  return [{ coding: [{ system: SYSTEM.observationCategory, code, display }] }];
}

function observation(
  context: MeasurementContext,
  kind: 'vital-signs' | 'laboratory',
  concepts: readonly Concept[],
  value: Pick<Observation, 'valueQuantity' | 'component' | 'referenceRange' | 'interpretation'>
): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: category(kind),
    code: { coding: concepts.map(coding), text: concepts[0]?.display },
    subject: context.patient,
    encounter: context.encounter,
    effectiveDateTime: context.effective,
    ...(kind === 'laboratory' ? { issued: context.issued } : {}),
    ...value,
  };
}

/** One visit's body measurements, computed once so weight, height and BMI agree with each other. */
interface BodyMeasurements {
  readonly weight: number;
  readonly height: number;
  readonly bmi: number;
}

function measureBody(physiology: Physiology, ms: number): BodyMeasurements {
  const weight = round(physiology.weightKg(ms), VITALS.weight.decimals);
  const height = round(physiology.heightCm(ms), VITALS.height.decimals);
  return { weight, height, bmi: weight / ((height / 100) * (height / 100)) };
}

function vitalObservation(
  key: VitalKey,
  physiology: Physiology,
  context: MeasurementContext,
  condition: VisitCondition,
  body: BodyMeasurements
): Observation {
  const simple = (definition: QuantityDefinition, value: number, extra: readonly Concept[] = []) =>
    observation(context, 'vital-signs', [definition.concept, ...extra], { valueQuantity: quantity(definition, value) });
  switch (key) {
    case 'bloodPressure': {
      const [systolic, diastolic] = physiology.bloodPressure(context.ms);
      return observation(context, 'vital-signs', [BLOOD_PRESSURE.panel], {
        component: [
          {
            code: { coding: [coding(BLOOD_PRESSURE.systolic.concept)] },
            valueQuantity: quantity(BLOOD_PRESSURE.systolic, systolic),
          },
          {
            code: { coding: [coding(BLOOD_PRESSURE.diastolic.concept)] },
            valueQuantity: quantity(BLOOD_PRESSURE.diastolic, diastolic),
          },
        ],
      });
    }
    case 'heartRate':
      return simple(VITALS.heartRate, physiology.heartRate(context.ms, condition.unwell));
    case 'respiratoryRate':
      return simple(VITALS.respiratoryRate, physiology.respiratoryRate(context.ms, condition.unwell));
    case 'temperature':
      return simple(VITALS.temperature, physiology.temperatureCel(condition.febrile));
    case 'oxygenSaturation':
      return simple(VITALS.oxygenSaturation, physiology.oxygenSaturation(context.ms, condition.unwell), [
        OXYGEN_SATURATION_GENERIC,
      ]);
    case 'weight':
      return simple(VITALS.weight, body.weight);
    case 'height':
      return simple(VITALS.height, body.height);
    case 'bmi':
      return simple(VITALS.bmi, body.bmi);
  }
}

export function addVitalSigns(
  entries: EntryList,
  physiology: Physiology,
  vitals: readonly VitalKey[],
  context: MeasurementContext,
  condition: VisitCondition
): void {
  const body = measureBody(physiology, context.ms);
  for (const key of vitals) {
    entries.add(vitalObservation(key, physiology, context, condition, body));
  }
}

function rangeQuantity(definition: QuantityDefinition, value: number): Quantity {
  return { value, unit: definition.unit, system: SYSTEM.ucum, code: definition.ucum };
}

function referenceRange(definition: QuantityDefinition, range: Range): ObservationReferenceRange {
  return {
    ...(range.low !== undefined ? { low: rangeQuantity(definition, range.low) } : {}),
    ...(range.high !== undefined ? { high: rangeQuantity(definition, range.high) } : {}),
  };
}

/** H/L flags only where the (rounded, as reported) value falls outside the reference range. */
function interpretation(value: number, range: Range): CodeableConcept[] | undefined {
  const flag =
    range.high !== undefined && value > range.high
      ? { code: 'H', display: 'High' }
      : range.low !== undefined && value < range.low
        ? { code: 'L', display: 'Low' }
        : undefined;
  return flag && [{ coding: [{ system: SYSTEM.interpretation, ...flag }], text: flag.display }];
}

/** Adds the panel's result Observations and the DiagnosticReport that groups them. */
export function addLabPanel(
  entries: EntryList,
  physiology: Physiology,
  panel: PanelKey,
  context: MeasurementContext
): Reference<DiagnosticReport> {
  const definition = PANELS[panel];
  const results = definition.analytes.map((key) => {
    const analyte = ANALYTES[key];
    const range = analyte.range[context.sex];
    const valueQuantity = quantity(analyte, physiology.analyte(key, context.ms));
    const flags = interpretation(valueQuantity.value ?? 0, range);
    return entries.add(
      observation(context, 'laboratory', [analyte.concept], {
        valueQuantity,
        ...(flags ? { interpretation: flags } : {}),
        referenceRange: [referenceRange(analyte, range)],
      })
    );
  });
  return entries.add<DiagnosticReport>({
    resourceType: 'DiagnosticReport',
    status: 'final',
    category: [{ coding: [{ system: SYSTEM.diagnosticServiceSection, code: 'LAB', display: 'Laboratory' }] }],
    code: { coding: [coding(definition.concept)], text: definition.concept.display },
    subject: context.patient,
    encounter: context.encounter,
    effectiveDateTime: context.effective,
    issued: context.issued,
    performer: [context.performer],
    result: results,
  });
}
