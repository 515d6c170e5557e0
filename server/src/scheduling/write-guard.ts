import type { Communication, Resource, Schedule, Task } from '@medplum/fhirtypes';
import type { PolicyContext } from '../access/caller-policy';
import { callerGrants } from '../access/caller-policy';
import type { AccessCache } from '../access/consent/access-cache';
import type { ResourceScope } from '../access/scope-types';
import type { AccessTokenClaims } from '../auth/types';
import { forbiddenBecause } from '../fhir/errors';
import { FEEDBACK_IDENTIFIER_SYSTEM } from '../marketplace/vocabulary';
import { isWorkflowOrder } from '../orders/vocabulary';
import type { AccessPolicy, WriteSubject } from '../storage/access';
import {
  HALE_TASK_CODE_SYSTEM,
  INTAKE_CODE,
  MESSAGE_CATEGORY_SYSTEM,
  RESCHEDULE_TASK_CODE,
  TASK_CODE_SYSTEM,
  VISIT_REQUEST_CODE,
} from './vocabulary';

/**
 * Workflow-owned resources. An Appointment's status, slot and participants, a reschedule request, a visit request, an intake form and a
 * secure message are changed only by the operations that keep their rules (the slot's row lock, the
 * allowed transitions, the relationship check), so REST writes of them by anyone but a backend service
 * (a `system/` scope) are refused — whatever path reaches the repository: create, update, JSON Patch,
 * conditional update, batch and transaction entries, delete. The guard sits on the access policy, as
 * the AuditEvent guard does (audit/immutable.ts), which is why no path can go around it; the
 * operations run under the policy without it (`workflowPolicy`).
 *
 * Schedules go the other way: directory data, written with `system/` scopes only, except that a
 * provider writes their own (every Practitioner/PractitionerRole actor one of their identities).
 */
const UNGUARDED = Symbol('hale.workflow.unguarded');

export interface WorkflowWriter {
  scopes: readonly ResourceScope[];
  /** The provider's Practitioner and active PractitionerRoles ("Practitioner/1"); empty for anyone else. */
  providerIdentities: ReadonlySet<string>;
}

/**
 * The writer of one request. A provider's identities come from the grants the access policy has just
 * loaded (cached under the access generation, so this is a cache hit, and a PractitionerRole change
 * holds from the next request); only providers need them.
 */
export async function workflowWriter(
  claims: AccessTokenClaims,
  scopes: readonly ResourceScope[],
  ctx: PolicyContext,
  cache: Pick<AccessCache, 'get'>
): Promise<WorkflowWriter> {
  const provider = /^(Practitioner|PractitionerRole)\//.test(claims.fhirUser ?? '');
  if (!provider || !scopes.some((s) => s.context === 'user')) {
    return { scopes, providerIdentities: new Set() };
  }
  const research = claims.roles?.includes('research-partner') ?? false;
  const { keys } = await callerGrants(claims, ctx, cache, research, Date.now());
  return { scopes, providerIdentities: new Set([...keys].filter((k) => /^(Practitioner|PractitionerRole)\//.test(k))) };
}

const PERMISSION = { create: 'c', update: 'u', delete: 'd' } as const;

function grantedBy(
  scopes: readonly ResourceScope[],
  context: ResourceScope['context'],
  type: string,
  p: 'c' | 'u' | 'd'
) {
  return scopes.some(
    (s) => s.context === context && (s.resourceType === '*' || s.resourceType === type) && s.permissions.has(p)
  );
}

function versionOf(subject: WriteSubject): Resource | undefined {
  if (subject.resource && 'resourceType' in subject.resource) {
    return subject.resource as Resource;
  }
  return subject.content ? (JSON.parse(subject.content) as Resource) : undefined;
}

/** Why REST may not write this version, or undefined when it is not workflow-owned. */
function workflowOwned(resourceType: string, resource: Resource | undefined): string | undefined {
  switch (resourceType) {
    case 'Appointment':
      return 'An Appointment is changed only through the scheduling operations ($book, $confirm, $cancel, $no-show, $reschedule, $reschedule-decision, $waitlist, $hold)';
    case 'Task':
      if (resource?.resourceType === 'Task' && isIntakeTask(resource)) {
        return 'An intake form is assigned with Task/$assign-intake and handed in with $submit-intake';
      }
      if (resource?.resourceType === 'Task' && isVisitRequest(resource)) {
        return 'A visit request is made with Task/$request-visit, answered with $triage and withdrawn with $withdraw';
      }
      return resource?.resourceType === 'Task' && isRescheduleRequest(resource)
        ? 'A reschedule request is made with Appointment/$reschedule and answered with $reschedule-decision'
        : undefined;
    case 'Encounter':
      // A visit's Encounter: its opening and closing end one-off relationships (server/src/telehealth).
      return resource?.resourceType === 'Encounter' && (resource.appointment ?? []).length > 0
        ? "A visit's Encounter is opened with Appointment/$start-visit and closed with $finish-visit"
        : undefined;
    case 'ServiceRequest':
      // An order's performer is granted the order (access/consent/order-grants.ts): only $order may place one.
      return resource && isWorkflowOrder(resource)
        ? 'An order is placed with ServiceRequest/$order and moved on with $activate, $revoke and $submit-result'
        : undefined;
    case 'QuestionnaireResponse':
      // Visit feedback is counted into a listing's rating once per visit: only the operation writes it.
      return resource?.resourceType === 'QuestionnaireResponse' &&
        resource.identifier?.system === FEEDBACK_IDENTIFIER_SYSTEM
        ? 'Visit feedback is given with Appointment/$submit-feedback'
        : undefined;
    case 'Communication':
      return resource?.resourceType === 'Communication' && isSecureMessage(resource)
        ? 'Secure messages are sent with Communication/$send-message and marked read with $mark-read'
        : undefined;
    default:
      return undefined;
  }
}

function isRescheduleRequest(task: Task): boolean {
  return (
    (task.code?.coding ?? []).some((c) => c.system === TASK_CODE_SYSTEM && c.code === RESCHEDULE_TASK_CODE) &&
    (task.focus?.reference ?? '').startsWith('Appointment/')
  );
}

export function isIntakeTask(task: Task): boolean {
  return (task.code?.coding ?? []).some((c) => c.system === HALE_TASK_CODE_SYSTEM && c.code === INTAKE_CODE);
}

export function isVisitRequest(task: Task): boolean {
  return (task.code?.coding ?? []).some((c) => c.system === HALE_TASK_CODE_SYSTEM && c.code === VISIT_REQUEST_CODE);
}

export function isSecureMessage(communication: Communication): boolean {
  return (communication.category ?? []).some((c) => (c.coding ?? []).some((x) => x.system === MESSAGE_CATEGORY_SYSTEM));
}

/** True when every person the Schedule names is the provider (and it names at least one, and no patient). */
function ownSchedule(schedule: Schedule, subject: WriteSubject, identities: ReadonlySet<string>): boolean {
  const people = (schedule.actor ?? [])
    .map((a) => a.reference ?? '')
    .filter((r) => /^(Practitioner|PractitionerRole|Patient|RelatedPerson)\//.test(r));
  return subject.compartments.length === 0 && people.length > 0 && people.every((r) => identities.has(r));
}

export function guardWorkflowWrites<P extends AccessPolicy>(policy: P, writer: WorkflowWriter): P {
  const checkWrite: AccessPolicy['checkWrite'] = (resourceType, subject, interaction) => {
    const p = PERMISSION[interaction];
    if (grantedBy(writer.scopes, 'system', resourceType, p)) {
      policy.checkWrite(resourceType, subject, interaction);
      return;
    }
    const version = versionOf(subject);
    const owned = workflowOwned(resourceType, version);
    if (owned) {
      throw forbiddenBecause(owned);
    }
    if (
      resourceType === 'Schedule' &&
      writer.providerIdentities.size > 0 &&
      grantedBy(writer.scopes, 'user', 'Schedule', p) &&
      version?.resourceType === 'Schedule' &&
      ownSchedule(version, subject, writer.providerIdentities)
    ) {
      return; // the stored version and the new one are checked apart: both must be the provider's
    }
    policy.checkWrite(resourceType, subject, interaction);
  };
  return new Proxy(policy, {
    get(target, prop) {
      if (prop === 'checkWrite') {
        return checkWrite;
      }
      if (prop === UNGUARDED) {
        return target;
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The policy the workflow operations write under: the caller's own, without the REST guard. */
export function workflowPolicy(policy: AccessPolicy): AccessPolicy {
  return (policy as unknown as Record<symbol, AccessPolicy | undefined>)[UNGUARDED] ?? policy;
}
