import { OperationOutcomeError, badRequest, conflict, forbidden, serverError } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';

/** A 403 OperationOutcomeError that says why (access policies, AuditEvent immutability, operations). */
export function forbiddenBecause(text: string): OperationOutcomeError {
  return new OperationOutcomeError({
    ...forbidden,
    issue: [{ severity: 'error', code: 'forbidden', details: { text } }],
  });
}

/**
 * Maps any error to an OperationOutcome. PostgreSQL data errors caused by input (class 22)
 * become 400 and unique violations 409; everything unexpected becomes a 500 whose details
 * never include internals (the log has them).
 */
export function toOutcome(err: unknown): { outcome: OperationOutcome; unexpected: boolean } {
  if (err instanceof OperationOutcomeError) {
    return { outcome: err.outcome, unexpected: false };
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('22')) {
    return { outcome: badRequest('Invalid value in request: ' + String((err as Error).message)), unexpected: false };
  }
  if (code === '54000') {
    return { outcome: badRequest('A value in the resource is too long to be indexed for search'), unexpected: false };
  }
  if (code === '23505') {
    return { outcome: conflict('The resource was changed concurrently; retry the request'), unexpected: false };
  }
  if (code === '40001' || code === '40P01') {
    return { outcome: conflict('Concurrent transactions conflicted; retry the request'), unexpected: false };
  }
  // Anything else is a bug or an outage: its message may hold internals, so it stays in the log.
  return { outcome: serverError(new Error('Internal server error')), unexpected: true };
}
