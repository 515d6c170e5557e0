import { OperationOutcomeError, conflict } from '@medplum/core';
import type { WithId } from '@medplum/core';
import type { Task } from '@medplum/fhirtypes';
import type { HaleRepository } from '../../../storage/repository';
import type { AuthDeps } from '../../deps';
import type { Role } from '../../types';
import { prepareVerification, requireMail, sendAlreadyRegistered } from '../mailing';
import { assertAcceptablePassword, hashPassword } from '../passwords';
import { EmailTaken, requireRow } from '../register';
import { insertAccount, selectAccountByEmail } from '../store';
import type { ApplicationKind } from './store';
import { insertApplication, numberInUse } from './store';

/** What the applicant's FHIR resources turned out to be, for the account row. */
export interface BuiltApplication {
  task: WithId<Task>;
  profile?: { type: 'Practitioner'; id: string };
  organizationId?: string;
}

export interface ApplicationPlan {
  kind: ApplicationKind;
  number: string;
  email: string;
  password: string;
  name: string;
  phone: string;
  roles: Role[];
  /** Creates the applicant's inactive resources, documents and review Task (inside the transaction). */
  build(repo: HaleRepository): Promise<BuiltApplication>;
}

function numberTaken(kind: ApplicationKind): OperationOutcomeError {
  const what = kind === 'provider' ? 'licence' : 'registration';
  return new OperationOutcomeError(conflict(`An application with this ${what} number already exists`));
}

/**
 * The common path of provider and partner applications: a pending account, the applicant's
 * inactive resources and a credential-verification Task, in one transaction; then a
 * verification mail. A licence number already applied with is a 409 (licence numbers are public
 * registers, not secrets); an email that has an account gets the same 202 and a mail to its
 * owner, as in registration.
 */
export async function submitApplication(deps: AuthDeps, plan: ApplicationPlan): Promise<void> {
  requireMail(deps);
  assertAcceptablePassword(plan.password, [plan.email, plan.name]);
  const passwordHash = await hashPassword(plan.password);
  if (await numberInUse(deps.db, plan.kind, plan.number)) {
    throw numberTaken(plan.kind);
  }
  const existing = await selectAccountByEmail(deps.db, plan.email);
  if (existing) {
    await sendAlreadyRegistered(deps, existing);
    return;
  }
  try {
    const send = await deps.systemRepository().withTransaction(async (tx) => {
      const built = await plan.build(tx);
      const row = requireRow(
        await insertAccount(tx.queryable, {
          email: plan.email,
          passwordHash,
          emailVerified: false,
          status: 'pending',
          roles: plan.roles,
          name: plan.name,
          phone: plan.phone,
          profile: built.profile,
          organizationId: built.organizationId,
        })
      );
      const app = { taskId: built.task.id, accountId: row.id, kind: plan.kind, number: plan.number };
      if (!(await insertApplication(tx.queryable, app))) {
        throw numberTaken(plan.kind);
      }
      return prepareVerification(deps, tx.queryable, row, true);
    });
    send();
  } catch (err) {
    if (!(err instanceof EmailTaken)) {
      throw err;
    }
    const winner = await selectAccountByEmail(deps.db, plan.email);
    if (winner) {
      await sendAlreadyRegistered(deps, winner);
    }
  }
}
