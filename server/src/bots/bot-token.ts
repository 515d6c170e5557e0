import { getExtensionValue } from '@medplum/core';
import type { Bot } from '@medplum/fhirtypes';
import type { AuthDeps } from '../auth/deps';
import { issueAccessToken } from '../auth/oauth';
import { sql } from '../db/sql';

/** The SMART scopes a Bot's own runs get (space-separated, `system/` only). Absent: none at all. */
export const BOT_ACCESS_URL = 'https://hale.health/fhir/StructureDefinition/bot-access';

/** The internal OAuth client bot tokens are issued to; it has no grant type, so nobody can use it at the token endpoint. */
export const BOT_CLIENT_ID = 'hale-bot-runtime';

/** A cached token is renewed when less than this is left of it. */
const RENEW_BEFORE_MS = 60_000;

/** The `system/` scopes a Bot declares for its own runs (deny by default: none when it declares none). */
export function botScopes(bot: Bot): string[] {
  const value = getExtensionValue(bot, BOT_ACCESS_URL);
  if (typeof value !== 'string') {
    return [];
  }
  return value.split(/\s+/).filter((s) => s.startsWith('system/'));
}

/**
 * Bot-scoped access tokens: issued as the token endpoint would (a grant, a recorded jti), limited
 * to the scopes the Bot declares, never the admin's. Cached per Bot version, so a change of the
 * Bot's scopes takes effect on its next run.
 */
export class BotTokens {
  private readonly cache = new Map<string, { token: string; expires: number }>();
  private clientReady: Promise<void> | undefined;

  constructor(private readonly auth: AuthDeps) {}

  async tokenFor(bot: Bot & { id: string }): Promise<string | undefined> {
    const scopes = botScopes(bot);
    if (scopes.length === 0) {
      return undefined;
    }
    const key = `${bot.id}/${bot.meta?.versionId ?? ''}/${scopes.join(' ')}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires - Date.now() > RENEW_BEFORE_MS) {
      return hit.token;
    }
    await (this.clientReady ??= this.ensureClient());
    const issued = await issueAccessToken(this.auth, {
      clientId: BOT_CLIENT_ID,
      scopes,
      fhirUser: `Bot/${bot.id}`,
    });
    for (const k of this.cache.keys()) {
      if (k.startsWith(`${bot.id}/`)) {
        this.cache.delete(k);
      }
    }
    this.cache.set(key, { token: issued.access_token, expires: Date.now() + issued.expires_in * 1000 });
    return issued.access_token;
  }

  private async ensureClient(): Promise<void> {
    await this.auth.db.query(sql`INSERT INTO oauth_client (client_id, name, kind, allowed_scopes, grant_types)
      VALUES (${BOT_CLIENT_ID}, 'Hale bot runtime', 'confidential-asymmetric', ${['system/*.cruds']}::text[], '{}')
      ON CONFLICT (client_id) DO NOTHING`);
  }
}
