import type { Extension, Resource } from '@medplum/fhirtypes';
import { LISTING_EXTENSIONS, LISTING_TYPES } from '../marketplace/vocabulary';
import type { RepoContext } from './context';

/**
 * Elements only the server writes: a marketplace listing's rating (the `listing-rating` extension), which the
 * feedback operation aggregates (marketplace/feedback.ts). On a client's write (a repository with a caller: REST,
 * batch and transaction entries, conditional writes, JSON Patch) the version keeps the stored rating whatever the
 * client sent, as it keeps the server's meta.versionId: a provider editing their listing from a copy read before
 * the latest feedback neither resets nor invents a rating. The server's own repositories (no caller) write it.
 */
const SERVER_OWNED: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  LISTING_TYPES.map((type) => [type, [LISTING_EXTENSIONS.rating]])
);

export function keepServerOwned<T extends Resource>(ctx: RepoContext, next: T, stored: string | null | undefined): T {
  const urls = SERVER_OWNED[next.resourceType];
  if (!urls || !ctx.caller) {
    return next;
  }
  const before = stored ? (JSON.parse(stored) as { extension?: Extension[] }) : undefined;
  const own = (e: Extension): boolean => urls.includes(e.url);
  const sent = (next as { extension?: Extension[] }).extension ?? [];
  const kept = sent.filter((e) => !own(e));
  // Where the client had it (an unchanged copy is then the same content, and no new version), else last.
  const at = sent.findIndex(own);
  kept.splice(at < 0 ? kept.length : at, 0, ...(before?.extension ?? []).filter(own));
  const { extension: _client, ...rest } = next as T & { extension?: Extension[] };
  return (kept.length > 0 ? { ...rest, extension: kept } : rest) as T;
}
