import { randomBytes } from 'node:crypto';
import { OperationOutcomeError, badRequest, forbidden, notFound } from '@medplum/core';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { sql } from '../../db/sql';
import { getAccount } from '../accounts';
import type { AuthDeps } from '../deps';
import type { Account } from '../types';
import { getActiveClient } from './clients';
import type { OAuthContext } from './context';
import { bearerClaims } from './verify';

/** What an EHR launch hands the app (SMART launch context), as stored in `smart_launch.context`. */
export interface LaunchContext {
  patient?: string;
  encounter?: string;
  need_patient_banner?: boolean;
  intent?: string;
  fhirContext?: { reference?: string; canonical?: string; identifier?: unknown; type?: string; role?: string }[];
}

/** A launch handle is single use and must be redeemed within this time. */
const LAUNCH_TTL_S = 300;

/**
 * Creates an EHR launch handle (the `launch` parameter) for a signed-in person: the portal
 * calls this, then opens the app's launch URL with `iss` and `launch`. Only that person can
 * redeem it, once.
 */
export async function createLaunch(deps: AuthDeps, accountId: string, context: LaunchContext): Promise<string> {
  const id = randomBytes(24).toString('base64url');
  await deps.db.query(
    sql`INSERT INTO smart_launch (id, account_id, context, expires_at)
        VALUES (${id}, ${accountId}, ${JSON.stringify(context)}, now() + make_interval(secs => ${LAUNCH_TTL_S}))`
  );
  return id;
}

/** A usable launch's context, checked against the signed-in person (not used up). */
export async function peekLaunch(ctx: OAuthContext, id: string, account: Account): Promise<LaunchContext | undefined> {
  const [row] = await ctx.deps.db.query<{ account_id: string | null; context: LaunchContext }>(
    sql`SELECT account_id, context FROM smart_launch WHERE id = ${id} AND used_at IS NULL AND expires_at > now()`
  );
  return row && (row.account_id === null || row.account_id === account.id) ? row.context : undefined;
}

/** Uses a launch up; undefined when it was used, expired or belongs to someone else. */
export async function consumeLaunch(
  ctx: OAuthContext,
  id: string,
  account: Account
): Promise<LaunchContext | undefined> {
  const [row] = await ctx.deps.db.query<{ context: LaunchContext }>(
    sql`UPDATE smart_launch SET used_at = now()
         WHERE id = ${id} AND used_at IS NULL AND expires_at > now()
           AND (account_id IS NULL OR account_id = ${account.id})
        RETURNING context`
  );
  return row?.context;
}

const launchBody = z.object({
  client_id: z.string().min(1),
  patient: z
    .string()
    .regex(/^[A-Za-z0-9\-.]{1,64}$/)
    .optional(),
  encounter: z
    .string()
    .regex(/^[A-Za-z0-9\-.]{1,64}$/)
    .optional(),
  intent: z.string().max(200).optional(),
  need_patient_banner: z.boolean().optional(),
});

/**
 * POST /oauth2/launch (Bearer: the person's access token; JSON body) → 201 { launch, launch_url }.
 * A patient may only launch with their own record in context.
 */
export async function handleCreateLaunch(ctx: OAuthContext, req: Request, res: Response): Promise<void> {
  const claims = await bearerClaims(ctx.deps, req.header('authorization'));
  const account = await getAccount(ctx.deps, claims.sub);
  if (!account || account.status !== 'active') {
    throw new OperationOutcomeError(forbidden);
  }
  const parsed = launchBody.safeParse(req.body);
  if (!parsed.success) {
    throw new OperationOutcomeError(badRequest(parsed.error.issues.map((i) => i.message).join('; ')));
  }
  const { client_id, ...context } = parsed.data;
  const client = await getActiveClient(ctx.deps.db, client_id);
  if (!client) {
    throw new OperationOutcomeError(notFound);
  }
  const own = account.profile?.type === 'Patient' ? account.profile.id : undefined;
  if (own !== undefined && context.patient !== undefined && context.patient !== own) {
    throw new OperationOutcomeError(forbidden);
  }
  const launch = await createLaunch(ctx.deps, account.id, { ...context, patient: context.patient ?? own });
  const launchUrl = client.launch_url ? new URL(client.launch_url) : undefined;
  launchUrl?.searchParams.set('iss', ctx.urls.fhirBase);
  launchUrl?.searchParams.set('launch', launch);
  res.status(201).set('Cache-Control', 'no-store').json({ launch, launch_url: launchUrl?.toString() });
}
