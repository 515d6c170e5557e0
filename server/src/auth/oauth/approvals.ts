import { OperationOutcomeError, forbidden, notFound } from '@medplum/core';
import type { Request, Response } from 'express';
import type { Queryable } from '../../db/database';
import { sql } from '../../db/sql';
import { getAccount } from '../accounts';
import type { Account } from '../types';
import type { OAuthContext } from './context';
import { revokeGrantsOf } from './grants';
import { scopeCovered } from './scopes';
import { bearerClaims } from './verify';

/** Remembers what a person approved for a client (replacing any earlier approval). */
export async function saveApproval(q: Queryable, accountId: string, clientId: string, scopes: string[]): Promise<void> {
  await q.query(
    sql`INSERT INTO oauth_approval (account_id, client_id, scopes) VALUES (${accountId}, ${clientId}, ${scopes})
        ON CONFLICT (account_id, client_id) DO UPDATE SET scopes = EXCLUDED.scopes, created_at = now()`
  );
}

/** Whether the person already approved every one of these scopes for this client. */
export async function approvalCovers(
  q: Queryable,
  accountId: string,
  clientId: string,
  scopes: string[]
): Promise<boolean> {
  const [row] = await q.query<{ scopes: string[] }>(
    sql`SELECT scopes FROM oauth_approval WHERE account_id = ${accountId} AND client_id = ${clientId}`
  );
  return row !== undefined && scopes.every((s) => scopeCovered(s, row.scopes));
}

/** The person behind a Bearer token (a user's token, not a backend service's). */
async function tokenAccount(ctx: OAuthContext, req: Request): Promise<Account> {
  const claims = await bearerClaims(ctx.deps, req.header('authorization'));
  const account = claims.sub === claims.client_id ? undefined : await getAccount(ctx.deps, claims.sub);
  if (!account) {
    throw new OperationOutcomeError(forbidden);
  }
  return account;
}

/** GET /oauth2/approvals → 200 [{ client_id, client_name, scope, approved_at }] */
export async function handleListApprovals(ctx: OAuthContext, req: Request, res: Response): Promise<void> {
  const account = await tokenAccount(ctx, req);
  const rows = await ctx.deps.db.query<{ client_id: string; name: string; scopes: string[]; created_at: string }>(
    sql`SELECT a.client_id, c.name, a.scopes, a.created_at FROM oauth_approval a
          JOIN oauth_client c ON c.client_id = a.client_id
         WHERE a.account_id = ${account.id} AND c.disabled_at IS NULL ORDER BY a.created_at`
  );
  res.set('Cache-Control', 'no-store').json(
    rows.map((r) => ({
      client_id: r.client_id,
      client_name: r.name,
      scope: r.scopes.join(' '),
      approved_at: r.created_at,
    }))
  );
}

/**
 * POST /oauth2/approvals/{clientId}/revoke → 204: forgets the approval and revokes every
 * grant (so every token) the person gave that client. 404 when there was nothing to revoke.
 */
export async function handleRevokeApproval(ctx: OAuthContext, req: Request, res: Response): Promise<void> {
  const account = await tokenAccount(ctx, req);
  const clientId = String(req.params.clientId);
  const revoked = await ctx.deps.db.transaction(async (tx) => {
    const deleted = await tx.query(
      sql`DELETE FROM oauth_approval WHERE account_id = ${account.id} AND client_id = ${clientId} RETURNING client_id`
    );
    return deleted.length + (await revokeGrantsOf(tx, account.id, clientId));
  });
  if (revoked === 0) {
    throw new OperationOutcomeError(notFound);
  }
  res.status(204).set('Cache-Control', 'no-store').end();
}
