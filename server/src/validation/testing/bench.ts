import { validateWithCoreReference } from '../reference/validate';
import { validateResourceForWrite } from '../validate';
import { bestMicrosPerItem, syntheaResources } from './synthea';

/**
 * Prints what validation costs per Synthea resource, compiled validator and reference, outside Jest (whose
 * module sandbox makes both several times slower): `npx tsx server/src/validation/testing/bench.ts [rounds]`.
 */
function main(): void {
  const rounds = Number(process.argv[2] ?? 15);
  const synthea = syntheaResources();
  const compiled = bestMicrosPerItem(synthea, validateResourceForWrite, rounds);
  const reference = bestMicrosPerItem(synthea, validateWithCoreReference, rounds);
  console.log(`${synthea.length} Synthea resources, best of ${rounds} rounds, µs/resource:`);
  console.log(`  compiled validator   ${compiled.toFixed(1)}`);
  console.log(`  reference            ${reference.toFixed(1)}`);
}

main();
