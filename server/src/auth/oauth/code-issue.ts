import type { Account } from '../types';
import type { AuthorizeFlow } from './authorize-request';
import type { OAuthContext } from './context';
import { RedirectError } from './errors';
import type { GrantContext } from './grants';
import { createCode, createGrant } from './grants';
import type { LaunchContext } from './launch';
import { consumeLaunch } from './launch';
import { hasPatientScopes, parseScopes } from './scopes';
import type { LoginSession } from './session';

/** Authorization codes live this long: they are exchanged right after the redirect (SMART: "around one minute"). */
const CODE_TTL_S = 120;

/** Whether the flow needs a patient in context: `launch/patient`, or any `patient/` scope (SMART: SHALL establish one). */
export function needsPatient(scopes: readonly string[]): boolean {
  return scopes.includes('launch/patient') || hasPatientScopes(scopes);
}

/** The patient in context: the EHR launch's, the patient's own record, or the one picked. */
export function patientFor(
  flow: AuthorizeFlow,
  account: Account,
  launch: LaunchContext | undefined
): string | undefined {
  if (launch?.patient) {
    return launch.patient;
  }
  return account.profile?.type === 'Patient' ? account.profile.id : flow.patient;
}

export function redirectError(flow: AuthorizeFlow, error: string, description: string): RedirectError {
  return new RedirectError(flow.redirectUri, flow.state, error, description);
}

/**
 * Creates the grant (with its launch context and refresh policy) and a single-use code bound to the client, redirect_uri and PKCE challenge; returns the
 * redirect back to the app.
 */
export async function issueCode(
  ctx: OAuthContext,
  flow: AuthorizeFlow,
  account: Account,
  scopes: string[],
  session: LoginSession
): Promise<string> {
  const launch = flow.launch ? await consumeLaunch(ctx, flow.launch, account) : undefined;
  if (flow.launch && !launch) {
    throw redirectError(flow, 'invalid_request', 'The launch has expired or was already used');
  }
  const context = grantContext(ctx, flow, account, scopes, session, launch);
  const code = await ctx.deps.db.transaction(async (tx) => {
    const grant = await createGrant(tx, { clientId: flow.clientId, accountId: account.id, scopes, context });
    return createCode(tx, {
      grantId: grant.id,
      clientId: flow.clientId,
      redirectUri: flow.redirectUri,
      codeChallenge: flow.codeChallenge,
      nonce: flow.nonce,
      ttlSeconds: CODE_TTL_S,
    });
  });
  const url = new URL(flow.redirectUri);
  url.searchParams.set('code', code);
  url.searchParams.set('state', flow.state);
  return url.toString();
}

function grantContext(
  ctx: OAuthContext,
  flow: AuthorizeFlow,
  account: Account,
  scopes: string[],
  session: LoginSession,
  launch: LaunchContext | undefined
): GrantContext {
  const granted = parseScopes(scopes).context;
  const patient = needsPatient(scopes) || launch?.patient ? patientFor(flow, account, launch) : undefined;
  const refresh = granted.has('offline_access') ? 'offline' : granted.has('online_access') ? 'online' : undefined;
  return {
    patient,
    encounter: launch?.encounter,
    fhirUser: account.profile ? `${account.profile.type}/${account.profile.id}` : undefined,
    // A standalone app has no EHR frame around it, so it should show which patient it is about.
    need_patient_banner: patient ? (launch?.need_patient_banner ?? true) : undefined,
    smart_style_url: ctx.urls.smartStyle,
    intent: launch?.intent,
    fhirContext: launch?.fhirContext,
    refresh,
    sid: refresh === 'online' ? session.sid : undefined,
    session_expires_at: refresh === 'online' ? session.exp : undefined,
    auth_time: session.authTime,
  };
}
