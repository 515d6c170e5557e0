import type { FhirRouter } from '@medplum/fhir-router';
import type { NextFunction, Request, Response } from 'express';
import { SmartPolicy } from '../access/smart-policy';
import { clientIp } from '../auth/accounts';
import { parseScopes } from '../auth/oauth';
import type { RateLimits } from '../auth/rate-limit';
import { RateLimitedError } from '../auth/rate-limit';
import { forbiddenBecause } from '../fhir/errors';
import { handleFhir } from '../fhir/http';
import type { AccessPolicy } from '../storage/access';
import type { RepoContext } from '../storage/context';
import type { HaleRepository } from '../storage/repository';
import { ANONYMOUS_TYPES } from './vocabulary';

/*
 * The marketplace directory without a token (docs/marketplace.md "Anonymous search"): GET search and read of the
 * listing types, nothing else. A request without an Authorization header on such a path is answered here, under
 * a policy granting read and search of those five types only (user/ scopes with the directory reach and no
 * grants): every other type — in an _include, a chain, a _has — reads as FALSE in SQL, as it does for a token
 * without that type. Practitioner is the one listing type that can hold personal data (birthDate, a home
 * address, private telecom), so anonymous callers get only its listing elements and may search and chain on those
 * only. Everything else (writes, operations, history, other types, POST _search) falls through to the bearer
 * check and answers 401 as before. Counted per client address; past the limit, 429 with Retry-After.
 */

const SCOPES = parseScopes([...ANONYMOUS_TYPES].map((t) => `user/${t}.rs`).join(' ')).resources;

/** What anyone may see of a Practitioner: who they are as a provider, not as a person. */
export const PRACTITIONER_LISTING_ELEMENTS = [
  'identifier',
  'active',
  'name',
  'gender',
  'photo',
  'qualification',
  'communication',
];

/** Practitioner search parameters over those elements (and the paging/sorting ones every search has). */
const PRACTITIONER_PARAMS = new Set([
  '_id',
  'identifier',
  'active',
  'name',
  'family',
  'given',
  'gender',
  'communication',
]);
const RESULT_PARAMS = new Set([
  '_count',
  '_sort',
  '_total',
  '_offset',
  '_cursor',
  '_summary',
  '_elements',
  '_format',
  '_pretty',
]);

/** References an anonymous search may chain or include through: to a Location, an Organization or a service. */
const OPEN_LINKS = new Set(['location', 'organization', 'service', 'endorsement', 'partof']);

const PATH = /^\/([A-Za-z]+)(?:\/([A-Za-z0-9\-.]{1,64}))?\/?$/;

export interface AnonymousDirectoryDeps {
  router: FhirRouter;
  rateLimits: RateLimits;
  perMinute: number;
  baseUrl: string;
  /** What the policy compiles its SQL with. */
  policyContext: Pick<RepoContext, 'searchParams' | 'baseUrl' | 'db'>;
  /** A request repository under the given policy (app.ts newRepository). */
  repository: (access: AccessPolicy) => HaleRepository;
}

export const anonymousPolicy = (ctx: Pick<RepoContext, 'searchParams' | 'baseUrl' | 'db'>): AccessPolicy =>
  new SmartPolicy(
    {
      scopes: SCOPES,
      patientReach: { all: false, directory: false },
      userReach: { all: false, directory: true },
    },
    ctx
  );

/** The listing type of an anonymous directory request, or undefined when it is not one (the bearer check follows). */
function directoryType(req: Request): string | undefined {
  if (req.header('authorization') !== undefined || req.method !== 'GET') {
    return undefined;
  }
  const type = PATH.exec(req.path)?.[1];
  return type && ANONYMOUS_TYPES.has(type) ? type : undefined;
}

/** Refuses what would reach past the listing elements: Practitioner's other fields, and links to Practitioners. */
function checkQuery(type: string, query: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(query)) {
    const code = key.split(':')[0] ?? '';
    if (code === '_has' || code === '_revinclude' || code === '_include:iterate') {
      throw forbiddenBecause(`${code} needs an access token`);
    }
    if (code === '_include') {
      for (const v of [value].flat()) {
        if (!OPEN_LINKS.has(String(v).split(':')[1] ?? '')) {
          throw forbiddenBecause(`Without an access token, _include follows only ${[...OPEN_LINKS].join(', ')}`);
        }
      }
      continue;
    }
    if (code.includes('.') && !OPEN_LINKS.has(code.split('.')[0] ?? '')) {
      throw forbiddenBecause(`Without an access token, chains follow only ${[...OPEN_LINKS].join(', ')}`);
    }
    if (type === 'Practitioner' && !PRACTITIONER_PARAMS.has(code) && !RESULT_PARAMS.has(code)) {
      throw forbiddenBecause(`Without an access token, Practitioner is searched by its listing elements only`);
    }
    if (type === 'Practitioner' && code === '_sort') {
      const codes = String(value)
        .split(',')
        .map((c) => c.replace(/^-/, ''));
      if (!codes.every((c) => PRACTITIONER_PARAMS.has(c))) {
        throw forbiddenBecause(`Without an access token, Practitioner is sorted by its listing elements only`);
      }
    }
  }
}

/** The query as the handler will read it: a Practitioner's answer carries the listing elements only. */
function listingQuery(type: string, query: Record<string, unknown>): Record<string, unknown> {
  if (type !== 'Practitioner') {
    return query;
  }
  const { _summary: _s, _elements: _e, ...rest } = query;
  return { ...rest, _elements: PRACTITIONER_LISTING_ELEMENTS.join(',') };
}

export function anonymousDirectory(deps: AnonymousDirectoryDeps) {
  const policy = anonymousPolicy(deps.policyContext);
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const type = directoryType(req);
    if (!type) {
      next();
      return;
    }
    try {
      await deps.rateLimits.consume('marketplace-anonymous', `ip:${clientIp(req)}`, deps.perMinute);
      const query = req.query as Record<string, unknown>;
      checkQuery(type, query);
      Object.defineProperty(req, 'query', { value: listingQuery(type, query), writable: true, configurable: true });
      await handleFhir(req, res, deps.router, deps.repository(policy), deps.baseUrl);
    } catch (err) {
      if (err instanceof RateLimitedError) {
        res.setHeader('Retry-After', String(err.retryAfterSeconds));
      }
      next(err);
    }
  };
}
