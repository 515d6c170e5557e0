import { OperationOutcomeError, badRequest, conflict, forbidden, serverError } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { isConnectionError, isResourceExhausted, isTimeoutError } from '../db/connection-errors';

/** Hale's id for a 503 outcome (getStatus from @medplum/core knows no such outcome). */
export const SERVICE_UNAVAILABLE_ID = 'service-unavailable';

/** Hale's id for a 502 outcome: a service Hale relies on (the mail server, the SMS provider) failed. */
export const BAD_GATEWAY_ID = 'bad-gateway';

/** Seconds a client should wait before retrying after a 503 (sent as Retry-After). */
export const RETRY_AFTER_SECONDS = 2;

/** The database could not be reached or the connection was lost: the request may be retried. */
export const serviceUnavailable: OperationOutcome = {
  resourceType: 'OperationOutcome',
  id: SERVICE_UNAVAILABLE_ID,
  issue: [
    {
      severity: 'error',
      code: 'transient',
      details: { text: 'The database is unavailable; retry the request shortly' },
    },
  ],
};

/** A statement outlived DATABASE_STATEMENT_TIMEOUT_MS: a 503 too (same id), with its own words. */
export const timedOut: OperationOutcome = {
  resourceType: 'OperationOutcome',
  id: SERVICE_UNAVAILABLE_ID,
  issue: [
    {
      severity: 'error',
      code: 'timeout',
      details: { text: 'The database did not answer in time; retry the request shortly, or narrow it' },
    },
  ],
};

/** The database is out of disk space or memory (it wrote nothing): a 503 too, until an operator frees some. */
export const outOfResources: OperationOutcome = {
  resourceType: 'OperationOutcome',
  id: SERVICE_UNAVAILABLE_ID,
  issue: [
    {
      severity: 'error',
      code: 'transient',
      details: { text: 'The database is out of storage; nothing was written; retry the request later' },
    },
  ],
};

/** The 503 outcome of a database failure worth retrying (lost connection, timeout, full disk), else undefined. */
export function retryableOutcome(err: unknown): OperationOutcome | undefined {
  if (isConnectionError(err)) {
    return serviceUnavailable;
  }
  if (isTimeoutError(err)) {
    return timedOut;
  }
  return isResourceExhausted(err) ? outOfResources : undefined;
}

/** A 403 OperationOutcomeError that says why (access policies, AuditEvent immutability, operations). */
export function forbiddenBecause(text: string): OperationOutcomeError {
  return new OperationOutcomeError({
    ...forbidden,
    issue: [{ severity: 'error', code: 'forbidden', details: { text } }],
  });
}

/**
 * Maps any error to an OperationOutcome. PostgreSQL data errors caused by input (class 22)
 * become 400 and unique violations 409; a lost or refused database connection, a timeout or a full disk 503; everything unexpected becomes a 500 whose details
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
  const retryable = retryableOutcome(err);
  if (retryable) {
    return { outcome: retryable, unexpected: false };
  }
  // Anything else is a bug or an outage: its message may hold internals, so it stays in the log.
  return { outcome: serverError(new Error('Internal server error')), unexpected: true };
}
