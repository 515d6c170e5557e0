import type { TypedValue } from '@medplum/core';
import type { IndexRows } from './rows';
import { stripCanonicalVersion } from './reference';

/**
 * Uri rows. A versioned canonical (`url|1.2`) gets two rows, without and with the version,
 * so that a search for the bare canonical matches every version and `url|1.2` only that one.
 */
export function appendUriRows(values: readonly TypedValue[], sp: number, grp: number, rows: IndexRows): void {
  for (const { type, value } of values) {
    if (typeof value !== 'string' || value === '') {
      continue;
    }
    const bare = type === 'canonical' ? stripCanonicalVersion(value) : value;
    rows.uri.push({ sp, grp, value: bare });
    if (bare !== value) {
      rows.uri.push({ sp, grp, value });
    }
  }
}
