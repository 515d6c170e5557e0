import { getReferenceString } from '@medplum/core';
import type { BotEvent, MedplumClient } from '@medplum/core';
import type { Patient } from '@medplum/fhirtypes';

/** A bot for the deploy tests: bundles a @medplum/core helper, reads through its client, echoes its input. */
export async function handler(medplum: MedplumClient, event: BotEvent<Patient>): Promise<Record<string, unknown>> {
  const patients = await medplum.searchResources('Patient');
  return { about: getReferenceString(event.input), patients: patients.length };
}
