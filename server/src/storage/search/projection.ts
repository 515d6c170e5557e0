import { getDataType } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

/** _summary=true|text|data and _elements, applied to a resource about to be returned. */
export function project(
  resource: Resource,
  summary: string | undefined,
  elements: readonly string[] | undefined
): Resource {
  if (!summary && !elements) {
    return resource;
  }
  const type = getDataType(resource.resourceType);
  let keep: (key: string) => boolean;
  if (elements) {
    const wanted = new Set(
      elements.map(
        (e) =>
          e
            .trim()
            .replace(/^[A-Za-z]+\./, '')
            .split('.')[0] as string
      )
    );
    keep = (k) => wanted.has(k) || isChoiceOf(k, wanted) || (type.mandatoryProperties?.has(k) ?? false);
  } else if (summary === 'true') {
    keep = (k) => (type.summaryProperties?.has(k) ?? false) || isChoiceOf(k, type.summaryProperties);
  } else if (summary === 'text') {
    keep = (k) => k === 'text' || (type.mandatoryProperties?.has(k) ?? false);
  } else if (summary === 'data') {
    keep = (k) => k !== 'text';
  } else {
    return resource;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource)) {
    if (k === 'resourceType' || k === 'id' || k === 'meta' || keep(k)) {
      out[k] = v;
    }
  }
  out.meta = { ...(resource.meta ?? {}), tag: [...(resource.meta?.tag ?? []), SUBSETTED] };
  return out as unknown as Resource;
}

/** valueQuantity matches a wanted "value" (choice-type elements are listed without their type suffix). */
function isChoiceOf(key: string, names: ReadonlySet<string> | undefined): boolean {
  if (!names) {
    return false;
  }
  const m = /^([a-z][A-Za-z]*?)[A-Z]/.exec(key);
  return Boolean(m?.[1] && names.has(m[1]));
}
