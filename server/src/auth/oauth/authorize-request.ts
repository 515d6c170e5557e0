import { sql } from '../../db/sql';
import { getActiveClient } from './clients';
import type { OAuthContext } from './context';
import { PageError, RedirectError } from './errors';
import type { Params } from './form';
import { allowedSubset, parseScopes } from './scopes';

/**
 * A validated authorization request, carried (signed) through sign-in, patient choice and
 * consent. `scopes` is already cut down to what the client may be granted.
 */
export interface AuthorizeFlow {
  clientId: string;
  clientName: string;
  redirectUri: string;
  state: string;
  scopes: string[];
  codeChallenge: string;
  nonce?: string;
  launch?: string;
  prompt?: 'none' | 'login' | 'consent';
  /** The patient chosen on the picker page. */
  patient?: string;
}

const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const PROMPTS = new Set(['none', 'login', 'consent']);

/**
 * Validates an authorization request (RFC 6749 §4.1.1, RFC 7636, SMART app-launch). Until
 * the client and its exact redirect_uri are known, errors are a page (PageError); after
 * that they go back to the client (RedirectError), with its state.
 */
export async function validateAuthorizeRequest(ctx: OAuthContext, params: Params): Promise<AuthorizeFlow> {
  const clientId = params.get('client_id');
  const client = clientId ? await getActiveClient(ctx.deps.db, clientId) : undefined;
  if (!client) {
    throw new PageError('Unknown app', 'This app is not registered with Hale, so it cannot sign you in.');
  }
  const redirectUri = params.get('redirect_uri');
  // Exact string match only: a URI that merely starts with a registered one is someone else's.
  if (!redirectUri || !client.redirect_uris.includes(redirectUri)) {
    throw new PageError(
      'Unregistered redirect address',
      'The app asked to return to an address it has not registered.'
    );
  }
  const state = params.get('state');
  const fail = (error: string, description: string): RedirectError =>
    new RedirectError(redirectUri, state, error, description);
  if (params.get('response_type') !== 'code') {
    throw fail('unsupported_response_type', 'response_type must be code');
  }
  if (!client.grant_types.includes('authorization_code')) {
    throw fail('unauthorized_client', 'This client may not use the authorization code grant');
  }
  if (params.has('request') || params.has('request_uri')) {
    throw fail('request_not_supported', 'Request objects are not supported');
  }
  if (!state) {
    throw fail('invalid_request', 'state is required');
  }
  if (stripSlash(params.get('aud') ?? '') !== ctx.urls.fhirBase) {
    throw fail('invalid_request', `aud must be this server's FHIR base URL, ${ctx.urls.fhirBase}`);
  }
  const codeChallenge = params.get('code_challenge');
  if (!codeChallenge || params.get('code_challenge_method') !== 'S256' || !PKCE_CHALLENGE.test(codeChallenge)) {
    throw fail('invalid_request', 'PKCE is required: a code_challenge with code_challenge_method S256');
  }
  const prompt = params.get('prompt');
  if (prompt !== undefined && !PROMPTS.has(prompt)) {
    throw fail('invalid_request', 'prompt must be none, login or consent');
  }
  const launch = params.get('launch');
  if (launch !== undefined && !(await launchUsable(ctx, launch))) {
    throw fail('invalid_request', 'The launch parameter is unknown, expired or already used');
  }
  const scopes = grantableScopes(params.get('scope') ?? '', client.allowed_scopes);
  if (scopes.length === 0) {
    throw fail('invalid_scope', 'None of the requested scopes can be granted to this client');
  }
  return {
    clientId: client.client_id,
    clientName: client.name,
    redirectUri,
    state,
    scopes,
    codeChallenge,
    nonce: params.get('nonce'),
    launch,
    prompt: prompt as AuthorizeFlow['prompt'],
  };
}

/**
 * Requested scopes that may be granted in a user flow: known, allowed for the client, and
 * not system/ (those are for backend services only).
 */
function grantableScopes(requested: string, allowed: string[]): string[] {
  return allowedSubset(
    parseScopes(requested).scopes.filter((s) => !s.startsWith('system/')),
    allowed
  );
}

async function launchUsable(ctx: OAuthContext, launch: string): Promise<boolean> {
  const rows = await ctx.deps.db.query(
    sql`SELECT 1 FROM smart_launch WHERE id = ${launch} AND used_at IS NULL AND expires_at > now()`
  );
  return rows.length > 0;
}

function stripSlash(s: string): string {
  return s.replace(/\/+$/, '');
}
