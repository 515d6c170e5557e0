import { OperationOutcomeError, getStatus } from '@medplum/core';
import type { Request, Response } from 'express';
import type express from 'express';
import { sql } from '../../db/sql';
import { authenticateLoginCode, authenticatePassword, clientIp, requestLoginCode } from '../accounts';
import { RateLimitedError } from '../rate-limit';
import type { Account } from '../types';
import { redirect, sendAccountState } from './authorize-flow';
import type { AuthorizeFlow } from './authorize-request';
import { formStep } from './authorize-routes';
import type { OAuthContext } from './context';
import { codePage, loginPage, sendPage } from './pages';
import type { LoginSession } from './session';
import { clearSession, newSession, signFlow, writeSession } from './session';

/** Sign-in for the authorization flow: password, or a one-time code by email or SMS (the accounts module checks both). */
export function mountLoginRoutes(router: express.Router, ctx: OAuthContext): void {
  router.post('/login', async (req, res) => {
    const { form, session, flow } = await formStep(ctx, req);
    const email = form.get('email') ?? '';
    await attempt(ctx, req, res, { flow, session, email }, () =>
      authenticatePassword(ctx.deps, email, form.get('password') ?? '', clientIp(req))
    );
  });

  router.post('/login/code/request', async (req, res) => {
    const { form, session, flow } = await formStep(ctx, req);
    const email = form.get('email') ?? '';
    const channel = form.get('channel') === 'sms' ? 'sms' : 'email';
    const hidden = { flow: await signFlow(ctx, session.sid, flow), csrf: session.csrf };
    try {
      await ctx.deps.rateLimits.consume('oauth-login', `ip:${clientIp(req)}`);
      await requestLoginCode(ctx.deps, email, channel);
    } catch (err) {
      const page = loginPage({ ...hidden, clientName: flow.clientName, email, error: failureText(err) });
      retryAfter(res, err);
      sendPage(res, failureStatus(err), page, flow.redirectUri);
      return;
    }
    sendPage(res, 200, codePage({ ...hidden, email }), flow.redirectUri);
  });

  router.post('/login/code', async (req, res) => {
    const { form, session, flow } = await formStep(ctx, req);
    const email = form.get('email') ?? '';
    await attempt(ctx, req, res, { flow, session, email, code: true }, () =>
      authenticateLoginCode(ctx.deps, email, form.get('code') ?? '')
    );
  });

  // "Not you?": ends the session (and the online_access grants it approved), back to sign-in.
  router.post('/logout', async (req, res) => {
    const { session, flow } = await formStep(ctx, req);
    await endSession(ctx, session);
    const fresh = newSession();
    await writeSession(ctx, res, fresh);
    redirect(req, res, `/oauth2/authorize/next?flow=${encodeURIComponent(await signFlow(ctx, fresh.sid, flow))}`);
  });
}

interface Attempt {
  flow: AuthorizeFlow;
  session: LoginSession;
  email: string;
  code?: boolean;
}

/** Runs a sign-in; failure re-renders the form with a message, success starts a new session and goes on. */
async function attempt(
  ctx: OAuthContext,
  req: Request,
  res: Response,
  a: Attempt,
  signIn: () => Promise<Account>
): Promise<void> {
  let account: Account;
  try {
    await ctx.deps.rateLimits.consume('oauth-login', `ip:${clientIp(req)}`);
    account = await signIn();
  } catch (err) {
    const hidden = { flow: await signFlow(ctx, a.session.sid, a.flow), csrf: a.session.csrf };
    const page = a.code
      ? codePage({ ...hidden, email: a.email, error: failureText(err) })
      : loginPage({ ...hidden, clientName: a.flow.clientName, email: a.email, error: failureText(err) });
    retryAfter(res, err);
    sendPage(res, failureStatus(err), page, a.flow.redirectUri);
    return;
  }
  if (account.status !== 'active') {
    clearSession(ctx, res);
    await sendAccountState(ctx, res, account);
    return;
  }
  const session = newSession(account);
  await writeSession(ctx, res, session);
  const flow: AuthorizeFlow = { ...a.flow, prompt: a.flow.prompt === 'login' ? undefined : a.flow.prompt };
  redirect(req, res, `/oauth2/authorize/next?flow=${encodeURIComponent(await signFlow(ctx, session.sid, flow))}`);
}

/** Revokes the grants that live only as long as this login session (online_access). */
export async function endSession(ctx: OAuthContext, session: LoginSession): Promise<void> {
  if (!session.sub) {
    return;
  }
  await ctx.deps.db.query(
    sql`WITH g AS (UPDATE oauth_grant SET revoked_at = now()
                    WHERE account_id = ${session.sub} AND context->>'sid' = ${session.sid} AND revoked_at IS NULL
                    RETURNING id)
        UPDATE oauth_access_token SET revoked_at = now() WHERE grant_id IN (SELECT id FROM g) AND revoked_at IS NULL`
  );
}

function failureStatus(err: unknown): number {
  if (err instanceof OperationOutcomeError) {
    return getStatus(err.outcome) >= 500 ? 503 : getStatus(err.outcome);
  }
  throw err;
}

function failureText(err: unknown): string {
  if (!(err instanceof OperationOutcomeError)) {
    throw err;
  }
  const status = getStatus(err.outcome);
  const text = err.outcome.issue?.[0]?.details?.text;
  if (status === 429) {
    const minutes = Math.ceil((err instanceof RateLimitedError ? err.retryAfterSeconds : 60) / 60);
    const wait = minutes >= 120 ? `${Math.round(minutes / 60)} hours` : minutes > 1 ? `${minutes} minutes` : 'a minute';
    return `Too many attempts. Try again in ${wait}.`;
  }
  if (text === 'Email not verified') {
    return 'Confirm your email address first: open the link we sent you when you registered.';
  }
  return text ?? 'Sign-in failed.';
}

function retryAfter(res: Response, err: unknown): void {
  if (err instanceof RateLimitedError) {
    res.set('Retry-After', String(err.retryAfterSeconds));
  }
}
