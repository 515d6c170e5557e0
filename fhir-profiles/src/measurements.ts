import type { CodeSystem, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import glucoseMealContextCodeSystem from '../codesystems/glucose-meal-context.json';
import glucoseMealContext from '../structuredefinitions/glucose-meal-context.json';
import activeEnergy from '../structuredefinitions/hale-active-energy.json';
import bloodGlucose from '../structuredefinitions/hale-blood-glucose.json';
import bloodPressure from '../structuredefinitions/hale-blood-pressure.json';
import bmi from '../structuredefinitions/hale-bmi.json';
import bodyHeight from '../structuredefinitions/hale-body-height.json';
import bodyTemperature from '../structuredefinitions/hale-body-temperature.json';
import bodyWeight from '../structuredefinitions/hale-body-weight.json';
import heartRate from '../structuredefinitions/hale-heart-rate.json';
import hrvRmssd from '../structuredefinitions/hale-hrv-rmssd.json';
import hrvSdnn from '../structuredefinitions/hale-hrv-sdnn.json';
import mood from '../structuredefinitions/hale-mood.json';
import oxygenSaturation from '../structuredefinitions/hale-oxygen-saturation.json';
import respiratoryRate from '../structuredefinitions/hale-respiratory-rate.json';
import restingHeartRate from '../structuredefinitions/hale-resting-heart-rate.json';
import sleepDuration from '../structuredefinitions/hale-sleep-duration.json';
import steps from '../structuredefinitions/hale-steps.json';
import waistCircumference from '../structuredefinitions/hale-waist-circumference.json';
import originalQuantity from '../structuredefinitions/original-quantity.json';
import glucoseMealContextValueSet from '../valuesets/glucose-meal-context.json';

/*
 * The measurement profiles (Observation on the R4 vitalsigns profile where it applies), their extensions and
 * vocabulary; their codes and canonical units are also in server/src/wellness/measurements.ts (a server test
 * fails when the two drift apart). Hale codes without LOINC (mood, HRV RMSSD, sleep stages) are in the
 * observation-code CodeSystem, shared with the bots.
 */

export const measurementCodeSystems = [glucoseMealContextCodeSystem] as CodeSystem[];
export const measurementValueSets = [glucoseMealContextValueSet] as ValueSet[];
export const measurementStructureDefinitions = [
  bloodPressure,
  heartRate,
  restingHeartRate,
  respiratoryRate,
  oxygenSaturation,
  bodyTemperature,
  bodyWeight,
  bodyHeight,
  bmi,
  waistCircumference,
  hrvSdnn,
  hrvRmssd,
  bloodGlucose,
  sleepDuration,
  steps,
  activeEnergy,
  mood,
  originalQuantity,
  glucoseMealContext,
] as StructureDefinition[];
