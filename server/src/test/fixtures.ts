import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The shared test fixtures live in `shared/` beside the repository (as CI lays it out);
 * HALE_SHARED_DIR overrides that.
 */
export const SHARED_DIR = process.env.HALE_SHARED_DIR ?? resolve(__dirname, '../../../../shared');

export const SYNTHEA_DIR = join(SHARED_DIR, 'fixtures', 'synthea');

if (!existsSync(SYNTHEA_DIR)) {
  throw new Error(`Synthea fixtures not found at ${SYNTHEA_DIR}: set HALE_SHARED_DIR to the shared/ folder`);
}
