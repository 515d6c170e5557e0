import type { AccessCache } from '../../access/consent/access-cache';
import type { AuditWriter } from '../../audit/audit-writer';
import type { BulkExports } from '../../bulk/service';
import type { BotRuntime } from '../../bots/runtime';
import type { AccessTokenClaims } from '../../auth/types';
import type { Notifier } from '../../notify/notifier';
import type { TriageConfig } from '../../scheduling/triage-config';
import type { TelehealthConfig } from '../../telehealth/config';
import type { DocumentSigner } from '../../documents/signature';
import type { HaleRepository } from '../../storage/repository';
import type { Uploads } from '../../uploads/service';
import { forbiddenBecause } from '../errors';

/** What the sharing operations need beyond the caller's repository (wired once in app.ts). */
export interface OperationDeps {
  /**
   * A repository without access control, for the few steps the caller may not do themselves:
   * a provider's request Task in the patient's record, reading the Consents that name a provider,
   * checking that a patient exists before break-glass.
   */
  systemRepository(): HaleRepository;
  accessCache: Pick<AccessCache, 'bump' | 'get'>;
  audit: Pick<AuditWriter, 'record'>;
  notifier: Notifier;
  /** The public server URL (links in mail). */
  serverUrl: string;
  /** Entries a batch or transaction Bundle may hold (BUNDLE_MAX_ENTRIES). */
  bundleMaxEntries: number;
  /** The largest file $import-device reads (DEVICE_IMPORT_MAX_BYTES); undefined: 4 GiB. */
  deviceImportMaxBytes?: number;
  /** The bot runtime ($execute, $deploy, $secrets, $bot-runs); undefined when BOTS_ENABLED=false. */
  bots?: BotRuntime;
  /** Bulk Data $export (kick-offs go into its ledger). */
  bulk?: BulkExports;
  /** Visit requests' emergency rule (TRIAGE_*); undefined: the defaults. */
  triage?: TriageConfig;
  /** Telehealth join links (TELEHEALTH_*); undefined: off. */
  telehealth?: TelehealthConfig;
  /** Signs documents (excuse notes) with the server's signing key; undefined: $excuse-note is unavailable. */
  signDocument?: DocumentSigner;
  /** Uploads (POST Binary, DocumentReference/$upload) and Binary content reads; undefined: Binary is JSON only. */
  uploads?: Uploads;
}

/** The verified token of the request; every request under the FHIR base has one. */
export function callerOf(repo: HaleRepository): AccessTokenClaims {
  const caller = repo.ctx.caller;
  if (!caller) {
    throw forbiddenBecause('This operation acts for a signed-in user');
  }
  return caller;
}

/** The caller's Practitioner or PractitionerRole ("Practitioner/1"), or 403. */
export function providerOf(caller: AccessTokenClaims): string {
  const fhirUser = caller.fhirUser ?? '';
  if (!/^(Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/.test(fhirUser)) {
    throw forbiddenBecause('Only a provider (a user whose profile is a Practitioner or PractitionerRole) may do this');
  }
  return fhirUser;
}
