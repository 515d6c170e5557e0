import type { Request, Response } from 'express';
import { getAccount, getApplicationForAccount } from '../accounts';
import type { Account } from '../types';
import { approvalCovers } from './approvals';
import type { AuthorizeFlow } from './authorize-request';
import { issueCode, needsPatient, patientFor, redirectError } from './code-issue';
import type { OAuthContext } from './context';
import { peekLaunch } from './launch';
import type { ConsentItem } from './pages';
import { consentPage, loginPage, messagePage, pickerPage, sendPage } from './pages';
import { canPickPatient, pickablePatients } from './patients';
import { describeScope } from './scope-words';
import type { LoginSession } from './session';
import { signFlow } from './session';

const LAUNCH_SCOPES = new Set(['launch', 'launch/patient', 'launch/encounter']);

/** Redirects back to the app (302 after a GET, 303 after a form POST), never cached. */
export function redirect(req: Request, res: Response, location: string): void {
  res.set('Cache-Control', 'no-store').redirect(req.method === 'GET' ? 302 : 303, location);
}

/**
 * Takes an authorization request as far as it can go: sign-in, then the account's state,
 * then a patient (EHR launch, own record, or the picker), then consent — skipped when the
 * person already approved these scopes for this app — and finally the code. prompt=none
 * turns every page into the matching OpenID Connect error.
 */
export async function continueFlow(
  ctx: OAuthContext,
  req: Request,
  res: Response,
  flow: AuthorizeFlow,
  session: LoginSession,
  query = ''
): Promise<void> {
  const account = session.sub && flow.prompt !== 'login' ? await getAccount(ctx.deps, session.sub) : undefined;
  if (!account) {
    if (flow.prompt === 'none') {
      throw redirectError(flow, 'login_required', 'The user is not signed in');
    }
    const page = loginPage({ ...(await hidden(ctx, flow, session)), clientName: flow.clientName });
    sendPage(res, 200, page, flow.redirectUri);
    return;
  }
  if (account.status !== 'active' || !account.emailVerified) {
    await sendAccountState(ctx, res, account);
    return;
  }
  const launch = flow.launch ? await peekLaunch(ctx, flow.launch, account) : undefined;
  if (flow.launch && !launch) {
    throw redirectError(flow, 'invalid_request', 'The launch has expired, was used, or is for another user');
  }
  if (needsPatient(flow.scopes) && !patientFor(flow, account, launch)) {
    if (!canPickPatient(account)) {
      throw redirectError(flow, 'access_denied', 'This account has no patient record to share with the app');
    }
    if (flow.prompt === 'none') {
      throw redirectError(flow, 'interaction_required', 'A patient must be chosen');
    }
    const patients = await pickablePatients(ctx.deps, account, query);
    const page = pickerPage({ ...(await hidden(ctx, flow, session)), clientName: flow.clientName, patients, query });
    sendPage(res, 200, page, flow.redirectUri);
    return;
  }
  if (flow.prompt !== 'consent' && (await approvalCovers(ctx.deps.db, account.id, flow.clientId, flow.scopes))) {
    redirect(req, res, await issueCode(ctx, flow, account, flow.scopes, session));
    return;
  }
  if (flow.prompt === 'none') {
    throw redirectError(flow, 'consent_required', 'The user has not approved these scopes for this app');
  }
  sendPage(
    res,
    200,
    consentPage({ ...(await hidden(ctx, flow, session)), ...consentItems(flow, account) }),
    flow.redirectUri
  );
}

async function hidden(
  ctx: OAuthContext,
  flow: AuthorizeFlow,
  session: LoginSession
): Promise<{ flow: string; csrf: string }> {
  return { flow: await signFlow(ctx, session.sid, flow), csrf: session.csrf };
}

/** Every scope gets a checkbox, except launch context, which is what the launch itself is about. */
function consentItems(
  flow: AuthorizeFlow,
  account: Account
): { clientName: string; userName: string | null; optional: ConsentItem[]; fixed: ConsentItem[] } {
  const audience = account.profile?.type === 'Patient' ? 'own-record' : 'patient-record';
  const item = (scope: string): ConsentItem => ({ scope, text: describeScope(scope, audience) });
  return {
    clientName: flow.clientName,
    userName: account.name,
    optional: flow.scopes.filter((s) => !LAUNCH_SCOPES.has(s)).map(item),
    fixed: flow.scopes.filter((s) => LAUNCH_SCOPES.has(s)).map(item),
  };
}

/** The scopes approved on the consent page: the ticked ones, plus the launch context. */
export function approvedScopes(flow: AuthorizeFlow, ticked: readonly string[]): string[] {
  return flow.scopes.filter((s) => LAUNCH_SCOPES.has(s) || ticked.includes(s));
}

/** Pending or turned-down applicants may sign in only to see where their application stands. */
export async function sendAccountState(ctx: OAuthContext, res: Response, account: Account): Promise<void> {
  if (!account.emailVerified) {
    sendPage(res, 403, messagePage('Confirm your email first', 'Open the link we emailed you, then try again.'));
    return;
  }
  const application = await getApplicationForAccount(ctx.deps, account.id);
  const name = account.name ? `${account.name}, y` : 'Y';
  if (account.status === 'pending') {
    const when = application ? ` (submitted ${application.submittedAt.slice(0, 10)})` : '';
    const text = `${name}our application${when} is awaiting review. Apps can connect once it is approved.`;
    sendPage(res, 403, messagePage('Application under review', text));
    return;
  }
  if (account.status === 'rejected') {
    const reason = application?.reason ? ` Reason given: ${application.reason}` : '';
    sendPage(res, 403, messagePage('Application not approved', `${name}our application was not approved.${reason}`));
    return;
  }
  sendPage(res, 403, messagePage('Account unavailable', 'This account cannot connect apps. Contact support.'));
}
