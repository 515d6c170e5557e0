import { OperationOutcomeError, conflict } from '@medplum/core';

/** Carries PostgreSQL's serialization_failure code, so Database.transaction retries it; 409 if retries run out. */
export class VersionConflictError extends OperationOutcomeError {
  readonly code = '40001';

  constructor(keys: readonly string[]) {
    super(conflict(`${keys.join(', ')} was written concurrently; retry`));
  }
}
