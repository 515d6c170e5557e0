import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { Bot, Resource, Subscription } from '@medplum/fhirtypes';
import { cronOf, firesAt } from '../bots/cron';
import { parseSubscription } from '../bots/subscription-model';
import type { RepoContext } from './context';

type Rule = (resource: Resource, ctx: RepoContext) => void;

/**
 * Pre-write rules by resource type, beyond what the StructureDefinitions say: a resource that
 * would be stored but could never work is refused at write with a 400 naming the problem.
 */
const RULES: Partial<Record<string, Rule>> = {
  // Only an active Subscription is delivered, but any status may become active: check them all.
  Subscription: (resource, ctx) => {
    parseSubscription(resource as Subscription, ctx);
  },
  Bot: (resource) => {
    const expression = cronOf(resource as Bot);
    if (expression) {
      try {
        firesAt(expression, new Date(Math.floor(Date.now() / 60_000) * 60_000));
      } catch (err) {
        throw new OperationOutcomeError(
          badRequest(`Bot schedule '${expression}' is not a cron expression: ${(err as Error).message}`)
        );
      }
    }
  },
};

export function checkWriteRules(resource: Resource, ctx: RepoContext): void {
  RULES[resource.resourceType]?.(resource, ctx);
}
