import type { Request, Response } from 'express';
import type express from 'express';
import { getAccount } from '../accounts';
import type { Account } from '../types';
import { saveApproval } from './approvals';
import { approvedScopes, continueFlow, redirect, sendAccountState } from './authorize-flow';
import type { AuthorizeFlow } from './authorize-request';
import { validateAuthorizeRequest } from './authorize-request';
import { issueCode, redirectError } from './code-issue';
import type { OAuthContext } from './context';
import { OAuthError, PageError } from './errors';
import type { Params } from './form';
import { formBody, singleParams } from './form';
import { canPickPatient, patientPickable } from './patients';
import type { LoginSession } from './session';
import { checkCsrf, newSession, readFlow, readSession, signFlow, writeSession } from './session';

/** The authorization endpoint (GET and POST, SMART `authorize-post`) and the pages that follow it. */
export function mountAuthorizeRoutes(router: express.Router, ctx: OAuthContext): void {
  const authorize = async (req: Request, res: Response): Promise<void> => {
    const flow = await validateAuthorizeRequest(ctx, authorizeParams(req));
    let session = await readSession(ctx, req);
    if (!session) {
      session = newSession();
      await writeSession(ctx, res, session);
    }
    await continueFlow(ctx, req, res, flow, session);
  };
  router.get('/authorize', authorize);
  router.post('/authorize', authorize);

  router.get('/authorize/next', async (req, res) => {
    const session = await readSession(ctx, req);
    if (!session) {
      throw new PageError('Your session expired', 'Please go back to the app and start again.', 403);
    }
    const q = typeof req.query.q === 'string' ? req.query.q : '';
    const handle = typeof req.query.flow === 'string' ? req.query.flow : undefined;
    await continueFlow(ctx, req, res, await readFlow<AuthorizeFlow>(ctx, handle, session), session, q);
  });

  router.post('/authorize/patient', async (req, res) => {
    const { form, session, flow } = await formStep(ctx, req);
    const account = await signedInAccount(ctx, res, session);
    if (!account) {
      return;
    }
    const patient = form.get('patient') ?? '';
    if (!canPickPatient(account) || !(await patientPickable(ctx.deps, account, patient))) {
      throw new PageError('Unknown patient', 'Go back and choose a patient from the list.');
    }
    const next = await signFlow(ctx, session.sid, { ...flow, patient });
    redirect(req, res, `/oauth2/authorize/next?flow=${encodeURIComponent(next)}`);
  });

  router.post('/authorize/decision', async (req, res) => {
    const { form, session, flow } = await formStep(ctx, req);
    const account = await signedInAccount(ctx, res, session);
    if (!account) {
      return;
    }
    if (form.get('decision') !== 'approve') {
      throw redirectError(flow, 'access_denied', 'The user denied the request');
    }
    const scopes = approvedScopes(flow, form.getAll('scope'));
    if (scopes.length === 0) {
      throw redirectError(flow, 'access_denied', 'The user approved none of the requested scopes');
    }
    await saveApproval(ctx.deps.db, account.id, flow.clientId, scopes);
    redirect(req, res, await issueCode(ctx, flow, account, scopes, session));
  });
}

/** GET takes the query string, POST the form body; a repeated parameter is an error page (no redirect yet). */
function authorizeParams(req: Request): Params {
  try {
    return req.method === 'GET' ? singleParams(req.query) : singleParams(formBody(req));
  } catch (err) {
    if (err instanceof OAuthError) {
      throw new PageError('Invalid sign-in request', err.description);
    }
    throw err;
  }
}

/** A form post from one of the flow's pages: CSRF-checked, with its flow. */
export async function formStep(
  ctx: OAuthContext,
  req: Request
): Promise<{ form: URLSearchParams; session: LoginSession; flow: AuthorizeFlow }> {
  const form = req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
  const session = checkCsrf(await readSession(ctx, req), form.get('csrf') ?? undefined);
  const flow = await readFlow<AuthorizeFlow>(ctx, form.get('flow') ?? undefined, session);
  return { form, session, flow };
}

/** The active account of the session; otherwise answers with the account's state page and returns undefined. */
async function signedInAccount(ctx: OAuthContext, res: Response, session: LoginSession): Promise<Account | undefined> {
  const account = session.sub ? await getAccount(ctx.deps, session.sub) : undefined;
  if (!account) {
    throw new PageError('Your session expired', 'Please go back to the app and start again.', 403);
  }
  if (account.status !== 'active' || !account.emailVerified) {
    await sendAccountState(ctx, res, account);
    return undefined;
  }
  return account;
}
