import type { Attachment, Resource } from '@medplum/fhirtypes';
import { project } from '../storage/search/projection';

/** Where the types Hale stores attachments of keep them (the url of each may point at a stored Binary). */
const ATTACHMENTS: Record<string, (r: Record<string, any>) => (Attachment | undefined)[]> = {
  DocumentReference: (r) => ((r.content ?? []) as { attachment?: Attachment }[]).map((c) => c.attachment),
  DiagnosticReport: (r) => (r.presentedForm ?? []) as Attachment[],
  Media: (r) => [r.content as Attachment | undefined],
  Communication: (r) => ((r.payload ?? []) as { contentAttachment?: Attachment }[]).map((p) => p.contentAttachment),
};

/**
 * How each line of a type is written. Without `_elements` for the type and without attachments to
 * rewrite, the stored JSON text goes out as it is (no parse). `_elements` uses search's projection
 * (mandatory elements kept, the resource tagged SUBSETTED); `Type.element` applies to that type only.
 * A relative attachment url (`Binary/x`) becomes absolute on this server, where the export's token
 * reads it (the Bulk Data IG's attachment rule).
 */
export function lineTransform(
  type: string,
  elements: readonly string[] | undefined,
  baseUrl: string
): (content: string) => string {
  const own = elements?.filter((e) => !e.includes('.') || e.startsWith(`${type}.`));
  const wanted = own && own.length > 0 ? own : undefined;
  const attachments = ATTACHMENTS[type];
  if (!wanted && !attachments) {
    return (content) => content;
  }
  return (content) => {
    if (!wanted && !content.includes('"Binary/')) {
      return content;
    }
    let resource = JSON.parse(content) as Resource;
    if (attachments) {
      for (const a of attachments(resource)) {
        if (a?.url && /^Binary\/[A-Za-z0-9\-.]{1,64}$/.test(a.url)) {
          a.url = `${baseUrl}/${a.url}`;
        }
      }
    }
    if (wanted) {
      resource = project(resource, undefined, wanted);
    }
    return JSON.stringify(resource);
  };
}
