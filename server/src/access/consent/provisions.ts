import type { CodeableConcept, Coding, Consent, ConsentProvision, Period, Reference } from '@medplum/fhirtypes';
import { dateRange } from '../../storage/indexer';
import type { CategorySelector, Criteria, RuleNode, Window } from './model';
import type { Category } from './vocabulary';
import {
  ACT_CODE_SYSTEM,
  CATEGORIES,
  CATEGORY_SYSTEM,
  CLIENT_ID_SYSTEM,
  OBSERVATION_CATEGORY_SYSTEM,
  RESOURCE_TYPES_SYSTEM,
  ROLE_CODE_SYSTEM,
} from './vocabulary';

/** Consent.policyRule codes that make the base rule "deny unless a provision permits" (opt-out). */
const DENY_BASE_POLICIES = new Set(['OPTOUT', 'OPTOUTE', 'OPTIN-DENY']);

/** A FHIR period as epoch-ms bounds (partial dates cover their whole precision); undefined when unreadable. */
export function periodWindow(period: Period | undefined): Window | undefined {
  if (!period) {
    return {};
  }
  try {
    return {
      start: period.start ? Date.parse(dateRange(period.start).low) : undefined,
      end: period.end ? Date.parse(dateRange(period.end).high) : undefined,
    };
  } catch {
    return undefined;
  }
}

/** The key a Consent actor or CareTeam member reference stands for: "Practitioner/1", "client:app". */
export function referenceKey(reference: Reference | undefined, baseUrl: string): string | undefined {
  if (reference?.reference) {
    const ref = reference.reference.startsWith(`${baseUrl}/`)
      ? reference.reference.slice(baseUrl.length + 1)
      : reference.reference;
    const parts = ref.split('/');
    return parts.length >= 2 && parts[0] && parts[1] ? `${parts[0]}/${parts[1]}` : undefined;
  }
  if (reference?.identifier?.system === CLIENT_ID_SYSTEM && reference.identifier.value) {
    return `client:${reference.identifier.value}`;
  }
  return undefined;
}

/** True when the provision's actors include a guardian role (v3-RoleCode GUARD). */
export function isGuardianActor(provision: ConsentProvision, key: string, baseUrl: string): boolean {
  return (provision.actor ?? []).some(
    (a) =>
      referenceKey(a.reference, baseUrl) === key &&
      (a.role?.coding ?? []).some((c) => c.code === 'GUARD' && (!c.system || c.system === ROLE_CODE_SYSTEM))
  );
}

/** Whether the root provision permits (provision.type, else the policyRule's base), as FAST and LEAP allow. */
export function rootPermits(consent: Consent): boolean {
  if (consent.provision?.type) {
    return consent.provision.type === 'permit';
  }
  const rules = consent.policyRule?.coding ?? [];
  return !rules.some((c) => DENY_BASE_POLICIES.has(c.code ?? '') && (!c.system || c.system === ACT_CODE_SYSTEM));
}

/** The provision tree as rules. Nested provisions' period, actors and actions are kept for the request-time prune. */
export function ruleOf(provision: ConsentProvision, permit: boolean, baseUrl: string, nested: boolean): RuleNode {
  const node: RuleNode = {
    permit,
    criteria: criteriaOf(provision),
    children: (provision.provision ?? []).map((child) =>
      ruleOf(child, child.type ? child.type === 'permit' : !permit, baseUrl, true)
    ),
  };
  if (nested) {
    if (provision.period) {
      node.period = periodWindow(provision.period) ?? { start: Number.POSITIVE_INFINITY };
    }
    if (provision.actor?.length) {
      node.actorKeys = provision.actor
        .map((a) => referenceKey(a.reference, baseUrl))
        .filter((k): k is string => k !== undefined);
    }
    if (provision.action?.length) {
      node.actions = actionCodes(provision.action);
    }
  }
  return node;
}

export function actionCodes(actions: CodeableConcept[] | undefined): string[] {
  return (actions ?? []).flatMap((a) => (a.coding ?? []).map((c) => c.code ?? '')).filter(Boolean);
}

function criteriaOf(p: ConsentProvision): Criteria {
  const criteria: Criteria = {};
  const selectors: CategorySelector[] = [];
  let unknown = false;
  for (const coding of p.class ?? []) {
    const s = classSelector(coding);
    if (s) {
      selectors.push(s);
    } else {
      unknown = true;
    }
  }
  for (const concept of p.code ?? []) {
    const s = (concept.coding ?? []).map(codeSelector).find((x) => x !== undefined);
    if (s) {
      selectors.push(s);
    } else {
      unknown = true;
    }
  }
  if (selectors.length > 0 || unknown) {
    criteria.categories = selectors;
  }
  if (p.securityLabel?.length) {
    criteria.securityLabels = p.securityLabel
      .filter((c) => c.code)
      .map((c) => (c.system ? { system: c.system, code: c.code as string } : { code: c.code as string }));
    unknown ||= criteria.securityLabels.length < p.securityLabel.length;
  }
  if (p.dataPeriod) {
    const window = periodWindow(p.dataPeriod);
    if (window) {
      criteria.dataPeriod = window;
    } else {
      unknown = true;
    }
  }
  if (p.data?.length) {
    criteria.instances = p.data.map((d) => instanceKey(d.reference)).filter((k): k is string => k !== undefined);
    unknown ||= criteria.instances.length < p.data.length;
  }
  if (unknown) {
    criteria.unknown = true;
  }
  return criteria;
}

function classSelector(coding: Coding): CategorySelector | undefined {
  if (coding.system === CATEGORY_SYSTEM && isCategory(coding.code)) {
    return { kind: 'category', category: coding.code };
  }
  if (coding.system === RESOURCE_TYPES_SYSTEM && coding.code && /^[A-Z][A-Za-z]+$/.test(coding.code)) {
    return { kind: 'type', type: coding.code };
  }
  return codeSelector(coding);
}

function codeSelector(coding: Coding): CategorySelector | undefined {
  if (coding.system === CATEGORY_SYSTEM && isCategory(coding.code)) {
    return { kind: 'category', category: coding.code };
  }
  if (coding.system === OBSERVATION_CATEGORY_SYSTEM && coding.code) {
    return { kind: 'observation-category', coding: { system: coding.system, code: coding.code } };
  }
  return undefined;
}

function isCategory(code: string | undefined): code is Category {
  return (CATEGORIES as readonly string[]).includes(code ?? '');
}

/** "Type/id" or "Type/id/_history/vid" of a Consent.provision.data reference. */
function instanceKey(reference: Reference | undefined): string | undefined {
  const m = /^(?:.*\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/(\d+))?$/.exec(
    reference?.reference ?? ''
  );
  if (!m) {
    return undefined;
  }
  return m[3] ? `${m[1]}/${m[2]}/_history/${m[3]}` : `${m[1]}/${m[2]}`;
}
