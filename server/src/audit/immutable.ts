import { forbiddenBecause } from '../fhir/errors';
import type { ResourceScope } from '../access/scope-types';
import type { AccessPolicy, Interaction } from '../storage/access';

/** A backend service with a system/ scope that may create AuditEvents (e.g. another system reporting its own). */
export function mayCreateAuditEvents(scopes: readonly ResourceScope[]): boolean {
  return scopes.some(
    (s) =>
      s.context === 'system' && (s.resourceType === '*' || s.resourceType === 'AuditEvent') && s.permissions.has('c')
  );
}

function check(resourceType: string, interaction: Interaction, systemCreator: boolean): void {
  if (resourceType !== 'AuditEvent') {
    return;
  }
  if (interaction === 'update' || interaction === 'delete') {
    throw forbiddenBecause('AuditEvents cannot be changed or deleted');
  }
  if (interaction === 'create' && !systemCreator) {
    throw forbiddenBecause('Only backend services may create AuditEvents');
  }
}

/**
 * The caller's access policy, refusing every update, patch and delete of an AuditEvent (system
 * callers included) and creates by anyone but a backend service. It sits on the policy rather than
 * on the REST routes so that batch and transaction entries, conditional writes and GraphQL
 * mutations, which all reach the repository, are refused alike. The audit writer uses the plain
 * system policy, so Hale's own audit trail is unaffected.
 *
 * A Proxy rather than a wrapper object: whatever the policy is (its class, optional methods such
 * as basisFor, private state), everything but the two checks is the policy's own.
 */
export function guardAuditEvents<P extends AccessPolicy>(policy: P, systemCreator: boolean): P {
  const checkInteraction: AccessPolicy['checkInteraction'] = (resourceType, interaction) => {
    check(resourceType, interaction, systemCreator);
    policy.checkInteraction(resourceType, interaction);
  };
  const checkWrite: AccessPolicy['checkWrite'] = (resourceType, subject, interaction) => {
    check(resourceType, interaction, systemCreator);
    policy.checkWrite(resourceType, subject, interaction);
  };
  return new Proxy(policy, {
    get(target, prop) {
      if (prop === 'checkInteraction') {
        return checkInteraction;
      }
      if (prop === 'checkWrite') {
        return checkWrite;
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
