/**
 * Installs the default clinical rules (bots/rules/*.json). Run once with `$execute` (or on cron): a rule whose
 * canonical URL is already stored is left alone, so local edits, retirements and version bumps are kept.
 */
import type { BotEvent, MedplumClient } from '@medplum/core';
import { defaultRules } from './lib/rules/defaults';

export interface InstallRulesResult {
  readonly rules: readonly { readonly url: string; readonly id: string; readonly created: boolean }[];
}

export async function handler(medplum: MedplumClient, _event: BotEvent): Promise<InstallRulesResult> {
  const rules = [];
  for (const rule of defaultRules()) {
    const { id: _id, ...withoutId } = rule;
    const query = `url=${encodeURIComponent(rule.url ?? '')}`;
    const existing = await medplum.searchOne('PlanDefinition', query);
    const stored = existing ?? (await medplum.createResourceIfNoneExist(withoutId, query));
    rules.push({ url: rule.url ?? '', id: stored.id ?? '', created: !existing });
  }
  return { rules };
}
