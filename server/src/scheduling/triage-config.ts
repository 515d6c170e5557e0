import { z } from 'zod';
import type { TriageSeverity } from './vocabulary';
import { TRIAGE_SEVERITIES } from './vocabulary';

/**
 * The emergency rule of visit requests (TRIAGE_*), merged into the server's config schema
 * (config.ts). It is a configured threshold on the severity the triage questionnaire gave, not a
 * diagnosis: at or above it, the request is refused with the configured advice to call emergency
 * services instead of waiting for a booking.
 */
export const TRIAGE_ENV = {
  TRIAGE_EMERGENCY_SEVERITY: z.enum([...TRIAGE_SEVERITIES, 'none']).default('emergency'),
  TRIAGE_EMERGENCY_MESSAGE: z
    .string()
    .min(1)
    .max(500)
    .default(
      'What you describe may be an emergency. Call your local emergency number (such as 911, 112 or 999) or go to the nearest emergency department now; do not wait for a visit.'
    ),
};

export interface TriageConfig {
  /** The least severity refused as an emergency; undefined: none is (TRIAGE_EMERGENCY_SEVERITY=none). */
  emergencyAt: TriageSeverity | undefined;
  /** What the refusal tells the patient (the OperationOutcome's text). */
  emergencyMessage: string;
}

type TriageEnv = { [K in keyof typeof TRIAGE_ENV]: z.infer<(typeof TRIAGE_ENV)[K]> };

export function triageConfigOf(e: TriageEnv): TriageConfig {
  const at = e.TRIAGE_EMERGENCY_SEVERITY;
  return { emergencyAt: at === 'none' ? undefined : at, emergencyMessage: e.TRIAGE_EMERGENCY_MESSAGE };
}

/** The defaults, for callers wired without a config (tools, tests of other parts). */
export const DEFAULT_TRIAGE: TriageConfig = triageConfigOf({
  TRIAGE_EMERGENCY_SEVERITY: 'emergency',
  TRIAGE_EMERGENCY_MESSAGE: TRIAGE_ENV.TRIAGE_EMERGENCY_MESSAGE.parse(undefined),
});
