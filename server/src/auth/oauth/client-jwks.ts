import type { JWK } from 'jose';

const FETCH_TIMEOUT_MS = 3000;
const MAX_BYTES = 64 * 1024;
/** Without Cache-Control a fetched key set is kept this long; with it, never longer than it says (SMART). */
const DEFAULT_TTL_MS = 5 * 60_000;
const MAX_TTL_MS = 60 * 60_000;
/** An unknown kid (the client rotated its keys) forces a re-fetch at most this often per URL. */
const REFETCH_COOLDOWN_MS = 30_000;

interface Entry {
  keys: JWK[];
  expiresAt: number;
  /** When an unknown kid last forced a re-fetch. */
  forcedAt: number;
}

/**
 * Key sets fetched from clients' registered JWKS URLs (confidential-asymmetric clients):
 * a short timeout, a size cap, and caching that honours the client's Cache-Control.
 */
export class ClientJwksCache {
  private readonly entries = new Map<string, Entry>();

  /** The keys at `url`; `refresh` asks for a re-fetch (kid not found), subject to a cooldown. */
  async get(url: string, refresh = false): Promise<JWK[]> {
    const now = Date.now();
    const entry = this.entries.get(url);
    const forced = refresh && entry !== undefined && now - entry.forcedAt > REFETCH_COOLDOWN_MS;
    if (entry && entry.expiresAt > now && !forced) {
      return entry.keys;
    }
    const fetched = await fetchJwks(url);
    if (fetched.ttlMs > 0) {
      const forcedAt = forced ? now : (entry?.forcedAt ?? 0);
      this.entries.set(url, { keys: fetched.keys, expiresAt: now + fetched.ttlMs, forcedAt });
    } else {
      this.entries.delete(url);
    }
    return fetched.keys;
  }
}

async function fetchJwks(url: string): Promise<{ keys: JWK[]; ttlMs: number }> {
  const res = await fetch(url, {
    headers: { accept: 'application/json' },
    redirect: 'error',
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  if (!res.ok) {
    throw new Error(`JWKS URL answered ${res.status}`);
  }
  const text = await res.text();
  if (text.length > MAX_BYTES) {
    throw new Error('JWKS document too large');
  }
  return { keys: parseJwks(JSON.parse(text)), ttlMs: cacheTtl(res.headers.get('cache-control')) };
}

/** The keys of a JWK Set document; throws when it is not one. Private key material is refused. */
export function parseJwks(doc: unknown): JWK[] {
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) {
    throw new Error('not a JWK Set: "keys" must be an array');
  }
  return keys.map((k: unknown) => {
    if (!k || typeof k !== 'object' || typeof (k as JWK).kty !== 'string') {
      throw new Error('not a JWK Set: every key needs a "kty"');
    }
    if ('d' in k) {
      throw new Error('a JWK Set for Hale must hold public keys only');
    }
    return k;
  });
}

function cacheTtl(header: string | null): number {
  if (!header) {
    return DEFAULT_TTL_MS;
  }
  const directives = header
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) {
    return 0;
  }
  const maxAge = directives.find((d) => d.startsWith('max-age='));
  const seconds = maxAge ? Number(maxAge.slice('max-age='.length)) : NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, MAX_TTL_MS) : DEFAULT_TTL_MS;
}
