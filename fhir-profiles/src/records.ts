import type { CodeSystem, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import logCodeCodeSystem from '../codesystems/log-code.json';
import mealTypeCodeSystem from '../codesystems/meal-type.json';
import carePlanAdherence from '../structuredefinitions/care-plan-adherence.json';
import activityLog from '../structuredefinitions/hale-activity-log.json';
import carePlan from '../structuredefinitions/hale-care-plan.json';
import foodLog from '../structuredefinitions/hale-food-log.json';
import goal from '../structuredefinitions/hale-goal.json';
import insight from '../structuredefinitions/hale-insight.json';
import labReport from '../structuredefinitions/hale-lab-report.json';
import labResult from '../structuredefinitions/hale-lab-result.json';
import symptomLog from '../structuredefinitions/hale-symptom-log.json';
import logCodeValueSet from '../valuesets/log-code.json';
import mealTypeValueSet from '../valuesets/meal-type.json';

/*
 * The care record beyond the measurements: food, activity and symptom logs, insights, lab results and reports,
 * goals and care plans (ADR 0008, 0009). Which resources a patient app must write in these shapes is
 * server/src/wellness/records.ts (a server test fails when the two drift apart). Their codes without LOINC are in
 * the log-code CodeSystem: observation-code is the measurements' (and the bots' list of it).
 */

export const recordCodeSystems = [logCodeCodeSystem, mealTypeCodeSystem] as CodeSystem[];
export const recordValueSets = [logCodeValueSet, mealTypeValueSet] as ValueSet[];
export const recordStructureDefinitions = [
  foodLog,
  activityLog,
  symptomLog,
  insight,
  labResult,
  labReport,
  goal,
  carePlan,
  carePlanAdherence,
] as StructureDefinition[];
