import { OperationOutcomeError, badRequest, forbidden, unauthorized } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';

/** Id of the outcome the account router answers with 503 (@medplum/core has no 503 outcome). */
export const UNAVAILABLE_ID = 'hale-unavailable';

export function unavailable(details: string): OperationOutcomeError {
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    id: UNAVAILABLE_ID,
    issue: [{ severity: 'error', code: 'transient', details: { text: details } }],
  };
  return new OperationOutcomeError(outcome);
}

export function withText(base: OperationOutcome, text: string): OperationOutcome {
  return { ...base, issue: [{ ...(base.issue?.[0] ?? { severity: 'error', code: 'processing' }), details: { text } }] };
}

/** One message for an unknown email and a wrong password alike. */
export function badCredentials(what: 'password' | 'code'): OperationOutcomeError {
  return new OperationOutcomeError(withText(unauthorized, `Invalid email or ${what}`));
}

export function refused(text: string): OperationOutcomeError {
  return new OperationOutcomeError(withText(forbidden, text));
}

/** Every flavour of bad link (unknown, used, expired) gets the same answer. */
export function invalidLink(): OperationOutcomeError {
  return new OperationOutcomeError(badRequest('This link is invalid, was already used, or has expired'));
}
