import type { PlanDefinition } from '@medplum/fhirtypes';
import bpHigh from '../../../rules/bp-high.json';
import bpMissing from '../../../rules/bp-missing.json';
import fastingGlucoseHigh from '../../../rules/fasting-glucose-high.json';
import restingHeartRateTrendUp from '../../../rules/resting-heart-rate-trend-up.json';
import weightGain from '../../../rules/weight-gain.json';

/** The rules Hale ships (bots/rules/*.json), installed by the install-rules bot. */
export function defaultRules(): PlanDefinition[] {
  return JSON.parse(
    JSON.stringify([bpHigh, fastingGlucoseHigh, weightGain, restingHeartRateTrendUp, bpMissing])
  ) as PlanDefinition[];
}
