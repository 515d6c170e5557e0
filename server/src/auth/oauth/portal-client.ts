import type { Queryable } from '../../db/database';
import { sql } from '../../db/sql';

/*
 * The web portal (web/) is a first-party SMART app like any other: a public client (PKCE, no secret: its code
 * runs in the browser) that signs people in through /oauth2/authorize. Hale registers it at start, as it does its
 * CLI and bot clients, so an installation needs no setup step; the row is rewritten at every start so that its
 * redirect URIs follow BASE_URL and CORS_ORIGINS (the portal's origins) when they change. An administrator who
 * disables the client keeps it disabled.
 */

export const PORTAL_CLIENT_ID = 'hale-portal';

/** What the portal asks for: the person's own record and what is shared with them, for the login session only. */
export const PORTAL_SCOPES = ['openid', 'fhirUser', 'profile', 'online_access', 'user/*.cruds'];

/** The portal's sign-in callback on each of its origins: the server's own and any configured CORS origin. */
export function portalRedirectUris(serverUrl: string, corsOrigins: string[] | undefined): string[] {
  const origins = new Set([new URL(serverUrl).origin, ...(corsOrigins ?? [])]);
  return [...origins].map((origin) => `${origin}/signin`);
}

export async function registerPortalClient(q: Queryable, redirectUris: string[]): Promise<void> {
  await q.query(sql`INSERT INTO oauth_client (client_id, name, kind, redirect_uris, allowed_scopes, grant_types)
    VALUES (${PORTAL_CLIENT_ID}, 'Hale', 'public', ${redirectUris}::text[], ${PORTAL_SCOPES}::text[],
            ${['authorization_code', 'refresh_token']}::text[])
    ON CONFLICT (client_id) DO UPDATE SET redirect_uris = EXCLUDED.redirect_uris,
      allowed_scopes = EXCLUDED.allowed_scopes, grant_types = EXCLUDED.grant_types`);
}
