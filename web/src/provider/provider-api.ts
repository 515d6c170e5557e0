import { formatHumanName } from '@medplum/core';
import type { Parameters, ParametersParameter, Patient } from '@medplum/fhirtypes';
import { CATEGORIES } from '../sharing/sharing-api';
import { medplum } from '../session';

export interface SharedPatient {
  id: string;
  name: string;
  /** The categories some grant in force shares ('all' expanded), and the latest end among them. */
  categories: string[];
  until?: string;
  /** A grant without an end. */
  openEnded: boolean;
}

function parts(p: ParametersParameter, name: string): ParametersParameter[] {
  return (p.part ?? []).filter((x) => x.name === name);
}

/** The provider's patients as Hale computes them for access itself (Practitioner/$my-patients). */
export async function myPatients(): Promise<SharedPatient[]> {
  const answer = await medplum.get<Parameters>(medplum.fhirUrl('Practitioner', '$my-patients'));
  return (answer.parameter ?? [])
    .filter((p) => p.name === 'patient')
    .map((p) => {
      const id = parts(p, 'patient')[0]?.valueReference?.reference?.split('/')[1] ?? '';
      const patient = parts(p, 'resource')[0]?.resource as Patient | undefined;
      const shares = parts(p, 'share');
      const categories = new Set(shares.flatMap((s) => parts(s, 'category').map((c) => c.valueCode ?? '')));
      const ends = shares.map((s) => parts(s, 'end')[0]?.valueDateTime);
      return {
        id,
        name: formatHumanName(patient?.name?.[0]) || `Patient ${id}`,
        categories: categories.has('all') ? CATEGORIES.map((c) => c.code) : [...categories].filter(Boolean),
        openEnded: ends.some((e) => e === undefined),
        until: ends
          .filter((e): e is string => !!e)
          .sort()
          .at(-1),
      };
    })
    .filter((p) => p.id);
}
