import { OperationOutcomeError, badRequest, forbidden, notFound } from '@medplum/core';
import type { Request } from 'express';
import type express from 'express';
import { getAccount } from '../accounts';
import type { ClientInput } from './clients';
import { ClientInputError, clientView, disableClient, getActiveClient, listClients, registerClient } from './clients';
import type { OAuthContext } from './context';
import { bearerClaims } from './verify';

/**
 * The admin API for SMART app registration (JSON; errors are OperationOutcomes):
 * POST /oauth2/clients → 201, GET /oauth2/clients → 200, GET/DELETE /oauth2/clients/{id} → 200/204, 404.
 * Only an active admin account's access token may call it (401 without a valid token, 403 otherwise).
 */
export function mountClientRoutes(router: express.Router, ctx: OAuthContext): void {
  router.post('/clients', async (req, res) => {
    await requireAdmin(ctx, req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const input = {
      name: body.client_name ?? body.name,
      type: body.client_type ?? body.type,
      redirect_uris: body.redirect_uris,
      scope: body.scope,
      jwks: body.jwks,
      jwks_uri: body.jwks_uri,
      launch_url: body.launch_url,
    } as ClientInput;
    try {
      const { client, clientSecret } = await registerClient(ctx.deps.db, input);
      res
        .status(201)
        .set('Cache-Control', 'no-store')
        .json({ ...clientView(client), client_secret: clientSecret });
    } catch (err) {
      if (err instanceof ClientInputError) {
        throw new OperationOutcomeError(badRequest(err.message));
      }
      throw err;
    }
  });

  router.get('/clients', async (req, res) => {
    await requireAdmin(ctx, req);
    res.set('Cache-Control', 'no-store').json((await listClients(ctx.deps.db)).map(clientView));
  });

  router.get('/clients/:clientId', async (req, res) => {
    await requireAdmin(ctx, req);
    const client = await getActiveClient(ctx.deps.db, String(req.params.clientId));
    if (!client) {
      throw new OperationOutcomeError(notFound);
    }
    res.set('Cache-Control', 'no-store').json(clientView(client));
  });

  router.delete('/clients/:clientId', async (req, res) => {
    await requireAdmin(ctx, req);
    if (!(await disableClient(ctx.deps.db, String(req.params.clientId)))) {
      throw new OperationOutcomeError(notFound);
    }
    res.status(204).end();
  });
}

/** The token must carry the admin role, and its account must still be an active admin now. */
async function requireAdmin(ctx: OAuthContext, req: Request): Promise<void> {
  const claims = await bearerClaims(ctx.deps, req.header('authorization'));
  const isAdminToken = claims.sub !== claims.client_id && (claims.roles ?? []).includes('admin');
  const account = isAdminToken ? await getAccount(ctx.deps, claims.sub) : undefined;
  if (!account || account.status !== 'active' || !account.roles.includes('admin')) {
    throw new OperationOutcomeError(forbidden);
  }
}
