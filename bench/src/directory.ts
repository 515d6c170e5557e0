/**
 * A workaround, used only when Hale rejects the generated transactions as they are: the seed puts
 * the shared provider directory (Organizations, Practitioners) in every bundle as conditional
 * creates (`ifNoneExist`), and @medplum/fhir-router refuses any transaction that holds a
 * conditional create and more than 8 entries ("Transaction requires strict isolation but has too
 * many entries"). The bench then creates the directory first (one conditional create per
 * provider, `If-None-Exist` header) and sends each patient bundle without those entries, its
 * references to them rewritten to conditional references (`Practitioner?identifier=…|npi`), which
 * Hale resolves inside the transaction — the same lookup per provider the server would have done.
 */
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { FHIR_JSON } from './http';
import type { PatientData } from './dataset';

export interface DirectoryEntry {
  readonly type: string;
  readonly ifNoneExist: string;
  readonly json: string;
}

export interface RewrittenBundle {
  readonly json: string;
  readonly entries: number;
}

function isDirectory(entry: BundleEntry): entry is BundleEntry & { request: { ifNoneExist: string } } {
  return entry.request?.method === 'POST' && typeof entry.request.ifNoneExist === 'string';
}

/** The distinct conditional creates across all bundles, keyed by their search. */
export function directoryOf(patients: readonly PatientData[]): DirectoryEntry[] {
  const found = new Map<string, DirectoryEntry>();
  for (const patient of patients) {
    const bundle = JSON.parse(patient.json) as Bundle;
    for (const entry of (bundle.entry ?? []).filter(isDirectory)) {
      const type = entry.request.url;
      found.set(`${type}?${entry.request.ifNoneExist}`, {
        type,
        ifNoneExist: entry.request.ifNoneExist,
        json: JSON.stringify(entry.resource),
      });
    }
  }
  return [...found.values()];
}

export async function createDirectory(fhirBase: string, directory: readonly DirectoryEntry[]): Promise<void> {
  for (const entry of directory) {
    const response = await fetch(`${fhirBase}/${entry.type}`, {
      method: 'POST',
      headers: { 'content-type': FHIR_JSON, accept: FHIR_JSON, 'if-none-exist': entry.ifNoneExist },
      body: entry.json,
    });
    const text = await response.text();
    if (response.status !== 200 && response.status !== 201) {
      throw new Error(
        `POST ${entry.type} (If-None-Exist: ${entry.ifNoneExist}) answered ${response.status}: ${text.slice(0, 600)}`
      );
    }
  }
}

function rewriteReferences(node: unknown, replacements: ReadonlyMap<string, string>): void {
  if (Array.isArray(node)) {
    node.forEach((v) => rewriteReferences(v, replacements));
  } else if (node && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    for (const [key, value] of Object.entries(obj)) {
      if (key === 'reference' && typeof value === 'string' && replacements.has(value)) {
        obj[key] = replacements.get(value);
      } else if (typeof value === 'object') {
        rewriteReferences(value, replacements);
      }
    }
  }
}

/** The patient's bundle without its directory entries, pointing at the directory by conditional reference. */
export function withoutDirectory(patient: PatientData): RewrittenBundle {
  const bundle = JSON.parse(patient.json) as Bundle;
  const entries = bundle.entry ?? [];
  const replacements = new Map<string, string>();
  for (const entry of entries.filter(isDirectory)) {
    replacements.set(entry.fullUrl ?? '', `${entry.request.url}?${entry.request.ifNoneExist}`);
  }
  const kept = entries.filter((e) => !isDirectory(e));
  rewriteReferences(kept, replacements);
  return { json: JSON.stringify({ ...bundle, entry: kept }), entries: kept.length };
}
