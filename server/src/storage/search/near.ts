import type { Filter } from '@medplum/core';
import { Operator } from '@medplum/core';
import type { Sql } from '../../db/sql';
import { or, raw, sql } from '../../db/sql';
import { accessClause } from '../read';
import type { CompileScope } from './compile';
import { referenceRowTest } from './reference';
import { alternatives, invalid } from './values';

/*
 * `near=latitude|longitude|distance|unit` (R4 Location `near`, and Hale's `near` on PractitionerRole and
 * HealthcareService, which is near any of their Locations). Location.position is stored as two number rows
 * (Hale's position-latitude and position-longitude parameters), so this is plain SQL on PostgreSQL without
 * PostGIS or earthdistance: a bounding box on those rows first, then the haversine distance on a sphere of the
 * mean Earth radius (error under 0.5% against the ellipsoid, well within what "near" means).
 */

const EARTH_RADIUS_KM = 6371.0088;
const KM_PER_DEGREE = (Math.PI * EARTH_RADIUS_KM) / 180;
/** Without a distance: 10 km, the radius a person usually means by "near me" in a city (docs/marketplace.md). */
export const DEFAULT_NEAR_KM = 10;
const KM_PER_UNIT: Record<string, number> = { km: 1, m: 0.001, mi: 1.609344, '[mi_i]': 1.609344 };

export interface NearPoint {
  lat: number;
  lon: number;
  km: number;
}

/** Types whose `near` is searched: Location by its own position, the listings by their Locations'. */
const LISTING_TYPES: ReadonlySet<string> = new Set(['PractitionerRole', 'HealthcareService']);

export function supportsNear(resourceType: string): boolean {
  return resourceType === 'Location' || LISTING_TYPES.has(resourceType);
}

function number(text: string | undefined, what: string): number {
  const n = text !== undefined && /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isFinite(n)) {
    throw invalid(`near: ${what} must be a decimal number, got '${text ?? ''}'`);
  }
  return n;
}

/** Parses one `latitude|longitude|distance|unit` (distance and unit optional). */
export function parseNear(value: string): NearPoint {
  const parts = value.split('|');
  if (parts.length < 2 || parts.length > 4) {
    throw invalid(`near takes latitude|longitude|distance|unit, got '${value}'`);
  }
  const lat = number(parts[0], 'latitude');
  const lon = number(parts[1], 'longitude');
  if (lat < -90 || lat > 90 || lon < -180 || lon > 180) {
    throw invalid('near: latitude is from -90 to 90 and longitude from -180 to 180');
  }
  const distance = parts[2] === undefined || parts[2] === '' ? undefined : number(parts[2], 'distance');
  const unit = parts[3] === undefined || parts[3] === '' ? 'km' : parts[3];
  const perUnit = KM_PER_UNIT[unit];
  if (perUnit === undefined) {
    throw invalid(`near: unit must be km, m, mi or [mi_i], got '${unit}'`);
  }
  if (distance !== undefined && distance <= 0) {
    throw invalid('near: distance must be more than 0');
  }
  return { lat, lon, km: distance === undefined ? DEFAULT_NEAR_KM : distance * perUnit };
}

/** The haversine distance in km from the point to the position rows `la` (latitude) and `lo` (longitude). */
function distanceKm(p: NearPoint): Sql {
  const lat = sql`radians(la.value::float8)`;
  const dLat = sql`radians(la.value::float8 - ${p.lat}::float8)`;
  const dLon = sql`radians(lo.value::float8 - ${p.lon}::float8)`;
  return sql`(${2 * EARTH_RADIUS_KM}::float8 * asin(least(1::float8, sqrt(power(sin(${dLat} / 2), 2)
    + cos(radians(${p.lat}::float8)) * cos(${lat}) * power(sin(${dLon} / 2), 2)))))`;
}

/** The bounding box of the circle, on the stored rows; the longitude bound is left out near a pole or across ±180°. */
function boundingBox(p: NearPoint): Sql {
  const dLat = p.km / KM_PER_DEGREE;
  const latBox = sql`la.value BETWEEN ${p.lat - dLat}::numeric AND ${p.lat + dLat}::numeric`;
  const cosLat = Math.cos((Math.max(Math.abs(p.lat - dLat), Math.abs(p.lat + dLat)) * Math.PI) / 180);
  const dLon = cosLat > 0.01 ? dLat / cosLat : 360;
  if (p.lon - dLon < -180 || p.lon + dLon > 180) {
    return latBox;
  }
  return sql`${latBox} AND lo.value BETWEEN ${p.lon - dLon}::numeric AND ${p.lon + dLon}::numeric`;
}

interface PositionRows {
  latSp: number;
  lonSp: number;
}

function positionRows(scope: CompileScope): PositionRows {
  const latSp = scope.ctx.searchParams.id('Location', 'position-latitude');
  const lonSp = scope.ctx.searchParams.id('Location', 'position-longitude');
  if (latSp === undefined || lonSp === undefined) {
    throw invalid('near is not indexed on this server');
  }
  return { latSp, lonSp };
}

/**
 * `FROM … WHERE …` of the position rows (la, lo) of the Locations of the resource row `alias`: its own for a
 * Location, those its `location` references name (read under the caller's access filter) for a listing.
 */
function positionsOf(scope: CompileScope, resourceType: string, alias: string): { from: Sql; where: Sql } {
  const { latSp, lonSp } = positionRows(scope);
  const join = sql`JOIN idx_number lo ON lo.rid = la.rid AND lo.sp = ${lonSp} AND lo.grp = la.grp`;
  if (resourceType === 'Location') {
    return { from: sql`idx_number la ${join}`, where: sql`la.rid = ${raw(alias)}.rid AND la.sp = ${latSp}` };
  }
  const rows = scope.ctx.searchParams.referenceRows(resourceType, 'location');
  if (!rows) {
    throw invalid(`near is not indexed for ${resourceType}`);
  }
  scope.aliasCount++;
  const t = `nl${scope.aliasCount}`;
  return {
    from: sql`idx_reference x JOIN resource ${raw(t)} ON ${raw(t)}.type = x.target_type AND ${raw(t)}.id = x.target_id
      JOIN idx_number la ON la.rid = ${raw(t)}.rid AND la.sp = ${latSp} ${join}`,
    where: sql`x.rid = ${raw(alias)}.rid AND ${referenceRowTest('x', rows)} AND ${raw(t)}.type = 'Location'
      AND NOT ${raw(t)}.deleted AND ${accessClause(scope.ctx.access, t, 'Location')}`,
  };
}

/** The `near` filter: some Location of the row is within the distance of one of the points. */
export function nearFilter(scope: CompileScope, resourceType: string, alias: string, f: Filter): Sql {
  if (!supportsNear(resourceType)) {
    throw invalid(`near is not supported for ${resourceType}`);
  }
  if (f.operator !== Operator.EQUALS) {
    throw invalid(`Modifier '${f.operator}' is not supported on near`);
  }
  return or(
    alternatives(f.value).map((value) => {
      const p = parseNear(value);
      const { from, where } = positionsOf(scope, resourceType, alias);
      return sql`EXISTS (SELECT 1 FROM ${from} WHERE ${where} AND ${boundingBox(p)} AND ${distanceKm(p)} <= ${p.km}::float8)`;
    })
  );
}

/** The point of the search's `near` filter (its first alternative), which `_sort=near` orders by. */
export function nearPoint(filters: readonly Filter[] | undefined): NearPoint | undefined {
  const near = (filters ?? []).find((f) => f.code === 'near');
  const first = near ? alternatives(near.value)[0] : undefined;
  return first === undefined ? undefined : parseNear(first);
}

/** The distance in km from the point to the row's nearest Location (NULL when it has no position). */
export function nearestKm(scope: CompileScope, resourceType: string, alias: string, p: NearPoint): Sql {
  const { from, where } = positionsOf(scope, resourceType, alias);
  return sql`(SELECT min(${distanceKm(p)}) FROM ${from} WHERE ${where})`;
}
