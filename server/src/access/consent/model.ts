import type { CategoryCoding } from './categories';
import type { Category, RelationshipType } from './vocabulary';

/** One category selector of a provision: a Hale category, a resource type, or an Observation category. */
export type CategorySelector =
  | { kind: 'category'; category: Category }
  | { kind: 'type'; type: string }
  | { kind: 'observation-category'; coding: CategoryCoding };

export interface Window {
  /** Epoch milliseconds, inclusive. */
  start?: number;
  end?: number;
}

/**
 * What a provision matches (FHIR Consent.provision criteria). Absent = unconstrained. `unknown`
 * marks a criterion Hale cannot evaluate: it matches nothing in a permit and everything in a
 * deny, so a misunderstood rule never shares more than the patient meant.
 */
export interface Criteria {
  categories?: CategorySelector[];
  securityLabels?: { system?: string; code: string }[];
  dataPeriod?: Window;
  /** "Type/id" (the resource) or "Type/id/_history/vid" (exactly that version). */
  instances?: string[];
  unknown?: boolean;
}

/** A provision and its nested exceptions; the most specific matching provision decides. */
export interface RuleNode {
  permit: boolean;
  criteria: Criteria;
  children: RuleNode[];
  /** Nested provisions may apply only in a period, to some actors, or to some actions. */
  period?: Window;
  actorKeys?: string[];
  actions?: string[];
}

/**
 * What one Consent (or break-glass declaration) lets one caller see of one patient. `full` is
 * the whole compartment (guardian, break-glass); `patientOnly` adds the patient's own audit log
 * and Consents (guardian only).
 */
export interface Grant {
  patientId: string;
  /** For the audit trail: "Consent/<id>/_history/<vid>" or "break-glass/<id>". */
  basis: string;
  full: boolean;
  patientOnly: boolean;
  rule?: RuleNode;
  /** Validity in epoch ms (Consent.provision.period ∩ relationship period); checked at each request. */
  valid: Window;
  /** Read access (consent actions access/use/disclose, or none stated). */
  read: boolean;
  /** May add and correct data (action "correct" through a permanent relationship, or a guardian). */
  write: boolean;
  relationship?: RelationshipType;
}

export function covers(window: Window, now: number): boolean {
  return (window.start === undefined || window.start <= now) && (window.end === undefined || now <= window.end);
}
