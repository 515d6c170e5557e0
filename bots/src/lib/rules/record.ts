import type { GuidanceResponse, Observation, ParametersParameter, Reference } from '@medplum/fhirtypes';
import { keyIdentifier } from '../fhir';
import type { Evaluation, Reading } from './evaluate';
import type { ClinicalRule } from './rule';

export interface EvaluationRecord {
  readonly rule: ClinicalRule;
  readonly patient: string;
  readonly evaluation: Evaluation;
  readonly now: Date;
  /** Idempotency key of this evaluation. */
  readonly key: string;
  /** The Observation that started it, if any. */
  readonly trigger?: Reference<Observation>;
  /** What the rule did (or found already open). */
  readonly actions: readonly Reference[];
}

function readingParameter(r: Reading): ParametersParameter {
  const part: ParametersParameter[] = [
    { name: 'observation', valueReference: { reference: r.ref } },
    { name: 'time', valueDateTime: new Date(r.time).toISOString() },
  ];
  if (r.value !== undefined) {
    part.push({ name: 'value', valueDecimal: r.value });
  }
  if (r.second !== undefined) {
    part.push({ name: 'secondValue', valueDecimal: r.second });
  }
  return { name: 'reading', part };
}

/**
 * The evaluation as a GuidanceResponse: the rule (moduleCanonical), the patient, whether it fired, the summary (a
 * contained OperationOutcome in evaluationMessage) and the values seen (contained Parameters in outputParameters:
 * triggered, operator, slope, each reading, each action); `key` is its requestIdentifier.
 */
export function evaluationResponse(record: EvaluationRecord): GuidanceResponse {
  const { rule, evaluation } = record;
  const parameters: ParametersParameter[] = [
    { name: 'triggered', valueBoolean: evaluation.triggered },
    { name: 'operator', valueCode: rule.operator },
    { name: 'windowDays', valueInteger: rule.windowDays },
    ...(evaluation.slope === undefined ? [] : [{ name: 'slopePerDay', valueDecimal: evaluation.slope }]),
    ...evaluation.readings.map(readingParameter),
    ...record.actions.map((a) => ({ name: 'action', valueReference: a })),
  ];
  const response: GuidanceResponse = {
    resourceType: 'GuidanceResponse',
    requestIdentifier: keyIdentifier(record.key),
    moduleCanonical: rule.canonical,
    status: 'success',
    subject: { reference: record.patient },
    occurrenceDateTime: record.now.toISOString(),
    ...(record.trigger ? { reasonReference: [record.trigger] } : {}),
    contained: [
      {
        resourceType: 'OperationOutcome',
        id: 'message',
        issue: [
          {
            severity: 'information',
            code: 'informational',
            details: {
              text: `${rule.title}: ${evaluation.triggered ? 'fired' : 'did not fire'}; ${evaluation.summary}`,
            },
          },
        ],
      },
      { resourceType: 'Parameters', id: 'output', parameter: parameters },
    ],
    evaluationMessage: [{ reference: '#message' }],
    outputParameters: { reference: '#output' },
  };
  return response;
}
