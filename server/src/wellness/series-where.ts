import type { Filter } from '@medplum/core';
import { Operator } from '@medplum/core';
import type { Sql } from '../db/sql';
import { and, sql } from '../db/sql';
import type { RepoContext } from '../storage/context';
import { accessClause } from '../storage/read';
import { alternatives, canMatch, splitEscaped, unescape } from '../storage/search/values';

/** A coding a series is keyed by ('' is "no system", as `|code` searches it). */
export interface SeriesCoding {
  system: string;
  code: string;
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * The WHERE of one series of one patient over measurement_series rows `s` (db/migrations/0017): the key, and the
 * caller's access filter over the row — the same policy a search applies (storage/access.ts ReadHint.row), which
 * tests the copied resource columns and the row's categories and period, so Consent needs no per-reading probe.
 * `component`: the series of components coded so (in Observations of any code), not of Observations coded so.
 */
export function seriesWhere(ctx: RepoContext, patientId: string, coding: SeriesCoding, component = false): Sql {
  ctx.access.checkInteraction('Observation', 'search');
  return and([
    component
      ? sql`s.patient = ${patientId} AND s.comp_system = ${coding.system} AND s.comp_code = ${coding.code}`
      : sql`s.patient = ${patientId} AND s.system = ${coding.system} AND s.code = ${coding.code}`,
    accessClause(ctx.access, 's', 'Observation', false, { patientIds: [patientId], row: 'series' }),
  ]);
}

/**
 * A code token the series can answer: `system|code` with both parts (a bare code matches every system, which a
 * series keyed by system|code cannot find in one range; `system|` is every code of a system).
 */
export function seriesCodingOf(token: string): SeriesCoding | undefined {
  if (!canMatch(token)) {
    return undefined;
  }
  const parts = splitEscaped(token, '|').map(unescape);
  const [system, code] = parts;
  return parts.length === 2 && system !== undefined && code ? { system, code } : undefined;
}

/** The patient of `patient=<id>` or `subject=Patient/<id>` (one value, no modifier), else undefined. */
export function seriesPatientOf(f: Filter): string | undefined {
  if (f.operator !== Operator.EQUALS || f.value.includes(',')) {
    return undefined;
  }
  const id =
    f.code === 'patient'
      ? f.value.replace(/^Patient\//, '')
      : f.code === 'subject'
        ? /^Patient\/(.+)$/.exec(f.value)?.[1]
        : undefined;
  return id !== undefined && ID.test(id) ? id : undefined;
}

/** The codings of a `category=` filter as system|code texts, if every value has both parts. */
export function seriesCategoriesOf(f: Filter): string[] | undefined {
  if (f.operator !== Operator.EQUALS) {
    return undefined;
  }
  const codings = alternatives(f.value).map(seriesCodingOf);
  return codings.every((c) => c !== undefined) ? codings.map((c) => `${c.system}|${c.code}`) : undefined;
}
