import { OperationOutcomeError, businessRule, conflict, forbidden } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { SCHEDULING_RULE_SYSTEM } from './vocabulary';

/**
 * The rules a scheduling workflow enforces. A refusal names its rule in
 * `issue[0].details.coding` (system SCHEDULING_RULE_SYSTEM), so a client can tell "someone
 * else got the slot" from "the slot is in the past" without parsing text.
 */
export const RULES = {
  /** 409: the slot is booked or held by someone else. */
  slotNotFree: 'slot-not-free',
  /** 422: the slot starts in the past. */
  slotInPast: 'slot-in-past',
  /** 422: the slot's schedule is closed (Schedule.active false). */
  scheduleClosed: 'schedule-closed',
  /** 409: the appointment's status does not allow this step. */
  illegalTransition: 'appointment-transition',
  /** 422: a no-show can only be recorded once the appointment has started. */
  noShowBeforeStart: 'no-show-before-start',
  /** 409: the appointment already has a reschedule request waiting. */
  reschedulePending: 'reschedule-pending',
  /** 409: there is no reschedule request to decide on. */
  noRescheduleRequest: 'no-reschedule-request',
  /** 422: the new slot is on a schedule of other providers. */
  rescheduleOtherSchedule: 'reschedule-other-schedule',
  /** 409: the patient is already waiting on this schedule. */
  alreadyWaiting: 'already-waiting',
  /** 422: a visit request's severity is at or above the configured emergency threshold. */
  emergency: 'emergency-call-services',
  /** 422: the provider is not listed in the marketplace. */
  providerNotListed: 'provider-not-listed',
  /** 422: the provider takes no new patients and the patient is not already theirs (ADR 0010). */
  notAcceptingNewPatients: 'not-accepting-new-patients',
  /** 409: the patient already has an open visit request with this provider. */
  visitRequestOpen: 'visit-request-open',
  /** 409: the visit request was already answered, withdrawn or redirected. */
  visitRequestClosed: 'visit-request-closed',
  /** 422: a redirect to the provider the request is already with. */
  redirectToSelf: 'redirect-to-self',
  /** 422: answers handed in for a questionnaire the intake Task did not assign. */
  notAssigned: 'not-assigned',
  /** 409: the intake form was already handed in or withdrawn. */
  intakeClosed: 'intake-closed',
  /** 422: a join link or virtual-visit step on an appointment whose service type is not virtual. */
  notVirtual: 'not-virtual',
  /** 422: the server has no telehealth link template (TELEHEALTH_URL_TEMPLATE). */
  telehealthOff: 'telehealth-off',
  /** 409: finishing a visit that was not started ($start-visit), or was already finished. */
  visitNotStarted: 'visit-not-started',
  /** 403: a visit step by someone who is not one of the appointment's participants. */
  notParticipant: 'not-a-participant',
  /** 409: the order's status does not allow this step (draft → active → completed / revoked). */
  orderTransition: 'order-transition',
  /** 422: a result whose subject, basedOn or references do not match the order. */
  resultMismatch: 'result-mismatch',
} as const;
export type Rule = (typeof RULES)[keyof typeof RULES];

const UNPROCESSABLE: ReadonlySet<Rule> = new Set<Rule>([
  RULES.slotInPast,
  RULES.scheduleClosed,
  RULES.noShowBeforeStart,
  RULES.rescheduleOtherSchedule,
  RULES.emergency,
  RULES.providerNotListed,
  RULES.notAcceptingNewPatients,
  RULES.redirectToSelf,
  RULES.notAssigned,
  RULES.notVirtual,
  RULES.telehealthOff,
  RULES.resultMismatch,
]);

/** Rules that are about who asks: 403. */
const FORBIDDEN: ReadonlySet<Rule> = new Set<Rule>([RULES.notParticipant]);

/**
 * A refusal naming its rule: 422 for a rule the request breaks whatever the timing, 409 for a state
 * conflict, 403 for a caller the rule leaves out.
 */
export function refused(rule: Rule, text: string): OperationOutcomeError {
  const base: OperationOutcome = FORBIDDEN.has(rule)
    ? { ...forbidden, issue: [{ severity: 'error', code: 'forbidden' }] }
    : UNPROCESSABLE.has(rule)
      ? businessRule(rule, text)
      : conflict(text, rule);
  return ruleOutcome(base, rule, text, 'conflict');
}

/** `base` (a 403, 409 or 422) as the error naming `rule` in Hale's scheduling-rule system, with `text`. */
export function ruleOutcome(
  base: OperationOutcome,
  rule: string,
  text: string,
  fallbackCode: NonNullable<OperationOutcome['issue']>[number]['code']
): OperationOutcomeError {
  const issue = base.issue?.[0];
  return new OperationOutcomeError({
    ...base,
    issue: [
      {
        ...issue,
        severity: 'error',
        code: issue?.code ?? fallbackCode,
        details: { coding: [{ system: SCHEDULING_RULE_SYSTEM, code: rule }], text },
      },
    ],
  });
}
