import { OperationOutcomeError, conflict, notFound, parseSearchRequest } from '@medplum/core';
import type { WithId } from '@medplum/core';
import type { HealthcareService, Resource, Task } from '@medplum/fhirtypes';
import type { HaleRepository } from '../../../storage/repository';
import type { AuthDeps } from '../../deps';
import { applicationApprovedMail, applicationRejectedMail } from '../../../notify/templates';
import { notifier } from '../mailing';
import { refused } from '../outcomes';
import { selectAccountById, setAccountStatus } from '../store';
import type { ApplicationKind, ApplicationSummary } from './store';
import { latestApplicationOf, lockApplication, pendingApplications, recordDecision } from './store';
import { decidedTask } from './task';

export async function listPendingApplications(deps: AuthDeps): Promise<ApplicationSummary[]> {
  return pendingApplications(deps.db);
}

/** The applicant's own newest application (what a pending applicant may see), or undefined. */
export async function getApplicationForAccount(
  deps: AuthDeps,
  accountId: string
): Promise<ApplicationSummary | undefined> {
  return latestApplicationOf(deps.db, accountId);
}

/**
 * Approves a pending application: the applicant's Practitioner and PractitionerRole (or
 * Organization and HealthcareService) become active, the account active, the Task completed;
 * then the applicant is emailed. 404 for an unknown Task, 409 when already decided, 403 when
 * `adminAccountId` is not an active admin.
 */
export async function approveApplication(
  deps: AuthDeps,
  taskId: string,
  adminAccountId: string
): Promise<ApplicationSummary> {
  await assertAdmin(deps, adminAccountId);
  const summary = await deps.systemRepository().withTransaction(async (tx) => {
    const { task, kind, accountId } = await lockPending(tx, taskId);
    await activateApplicant(tx, kind, task);
    await tx.updateResource(decidedTask(task, { approved: true }));
    await setAccountStatus(tx.queryable, accountId, 'active');
    return recordDecision(tx.queryable, { taskId, status: 'approved', adminId: adminAccountId, reason: null });
  });
  notifier(deps).mail(applicationApprovedMail(summary.email, deps.config.serverUrl));
  return summary;
}

/**
 * Rejects a pending application with a reason the applicant is emailed: Task rejected (with
 * statusReason), account 'rejected'; the applicant's resources stay inactive. Errors as approve.
 */
export async function rejectApplication(
  deps: AuthDeps,
  taskId: string,
  adminAccountId: string,
  reason: string
): Promise<ApplicationSummary> {
  await assertAdmin(deps, adminAccountId);
  const summary = await deps.systemRepository().withTransaction(async (tx) => {
    const { task, accountId } = await lockPending(tx, taskId);
    await tx.updateResource(decidedTask(task, { approved: false, reason }));
    await setAccountStatus(tx.queryable, accountId, 'rejected');
    return recordDecision(tx.queryable, { taskId, status: 'rejected', adminId: adminAccountId, reason });
  });
  notifier(deps).mail(applicationRejectedMail(summary.email, reason));
  return summary;
}

async function assertAdmin(deps: AuthDeps, accountId: string): Promise<void> {
  const admin = await selectAccountById(deps.db, accountId);
  if (!admin || admin.status !== 'active' || !admin.roles.includes('admin')) {
    throw refused('Only an active admin account may review applications');
  }
}

/** Locks the application row (two admins deciding at once: the second gets 409) and reads its Task. */
async function lockPending(
  tx: HaleRepository,
  taskId: string
): Promise<{ task: WithId<Task>; kind: ApplicationKind; accountId: string }> {
  const app = await lockApplication(tx.queryable, taskId);
  if (!app) {
    throw new OperationOutcomeError(notFound);
  }
  if (app.status !== 'pending') {
    throw new OperationOutcomeError(conflict(`This application was already ${app.status}`));
  }
  const task = await tx.readResource<Task>('Task', taskId);
  return { task, kind: app.kind, accountId: app.account_id };
}

/** Sets active on everything the application created inactive. */
async function activateApplicant(tx: HaleRepository, kind: ApplicationKind, task: WithId<Task>): Promise<void> {
  const refs = new Set([task.for?.reference, task.focus?.reference].filter((r): r is string => Boolean(r)));
  const targets: WithId<Resource>[] = [];
  for (const r of refs) {
    const [type, id] = r.split('/');
    targets.push(await tx.readResource(type as string, id as string));
  }
  if (kind !== 'provider' && task.focus?.reference) {
    const query = parseSearchRequest<HealthcareService>(`HealthcareService?organization=${task.focus.reference}`);
    targets.push(...(await tx.searchResources(query)));
  }
  for (const resource of targets) {
    if ('active' in resource && resource.active !== true) {
      await tx.updateResource({ ...resource, active: true });
    }
  }
}
