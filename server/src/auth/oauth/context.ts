import type { Database } from '../../db/database';
import type { AuthDeps } from '../deps';
import { ClientJwksCache } from './client-jwks';
import { KeyStore } from './keys';

/** The authorization server's absolute URLs, derived from the configured public server URL. */
export interface OAuthUrls {
  issuer: string;
  fhirBase: string;
  authorize: string;
  token: string;
  revoke: string;
  introspect: string;
  jwks: string;
  approvals: string;
  smartStyle: string;
}

export function oauthUrls(serverUrl: string, fhirBase: string): OAuthUrls {
  const o = `${serverUrl}/oauth2`;
  return {
    issuer: serverUrl,
    fhirBase,
    authorize: `${o}/authorize`,
    token: `${o}/token`,
    revoke: `${o}/revoke`,
    introspect: `${o}/introspect`,
    jwks: `${o}/jwks`,
    approvals: `${o}/approvals`,
    smartStyle: `${o}/smart-style.json`,
  };
}

/** Everything the OAuth handlers share: the AuthDeps, the key store, the client JWKS cache and the URLs. */
export interface OAuthContext {
  deps: AuthDeps;
  keys: KeyStore;
  clientJwks: ClientJwksCache;
  urls: OAuthUrls;
}

// One key store and JWKS cache per database, so the HTTP routes, verifyAccessToken and
// issueAccessToken share their caches whoever builds the AuthDeps object.
const shared = new WeakMap<Database, { keys: KeyStore; clientJwks: ClientJwksCache }>();

export function oauthContext(deps: AuthDeps): OAuthContext {
  let s = shared.get(deps.db);
  if (!s) {
    s = { keys: new KeyStore(deps.db, deps.config.signingKeyRotationDays), clientJwks: new ClientJwksCache() };
    shared.set(deps.db, s);
  }
  return { deps, ...s, urls: oauthUrls(deps.config.serverUrl, deps.config.fhirBaseUrl) };
}
