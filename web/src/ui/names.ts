import { formatHumanName } from '@medplum/core';
import type { HumanName } from '@medplum/fhirtypes';
import { medplum } from '../session';

/**
 * The names of the people these references point to ("Dr Rua Tane"), read in parallel. A reference the caller
 * may not read (or that has no name) is left out, so each screen says who it is in its own words.
 */
export async function namesOf(references: string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  await Promise.all(
    [...new Set(references.filter(Boolean))].map(async (reference) => {
      const who = await medplum.readReference({ reference }).catch(() => undefined);
      const name = who && 'name' in who ? formatHumanName((who.name as HumanName[] | undefined)?.[0]) : '';
      if (name) {
        names.set(reference, name);
      }
    })
  );
  return names;
}
