import type { Resource } from '@medplum/fhirtypes';
import type { AccessTokenClaims } from '../auth/types';
import type { Database, Queryable } from '../db/database';
import type { AccessPolicy } from './access';
import type { PendingWrite } from './flush';
import type { SearchParamRegistry } from './search-params';

/** Everything a repository needs; one is built per request (the access policy is the caller's). */
export interface RepoContext {
  db: Database;
  /** Set inside a transaction: all queries go through it. */
  tx?: Queryable;
  access: AccessPolicy;
  searchParams: SearchParamRegistry;
  /** The public FHIR base URL, used to recognise absolute references to ourselves and in links. */
  baseUrl: string;
  /** Validate writes against the StructureDefinitions (off only for trusted bulk loads of validated data). */
  validate: boolean;
  /** Resource types whose Hale profiles a patient app's writes must conform to (REQUIRE_PROFILES). */
  requireProfiles?: readonly string[];
  /** Prefer: handling=strict — unknown search parameters are an error instead of being ignored. */
  strictSearch?: boolean;
  /** Post-write hook: the number of resource versions just written (statistics upkeep). */
  afterWrite?: (versions: number) => void;
  /** The verified token of the request (absent for internal repositories): operations that act for the caller read it. */
  caller?: AccessTokenClaims;
  /**
   * Pre-commit hook of a transaction Bundle, given its answer: the writes it returns (the request's
   * AuditEvents) go into the transaction's last statement, so they commit with the data (one
   * commit instead of two, and no statement of their own).
   */
  beforeCommit?: (answer: Resource) => Promise<readonly PendingWrite[]>;
  /**
   * What a request read whose answer is not FHIR ($graphql's JSON names no resource types and only the fields asked
   * for), collected as it reads so the audit can name each patient whose data went out.
   */
  disclosed?: Resource[];
}
