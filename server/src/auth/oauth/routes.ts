import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { AuthDeps } from '../deps';
import { handleListApprovals, handleRevokeApproval } from './approvals';
import { redirect } from './authorize-flow';
import { mountAuthorizeRoutes } from './authorize-routes';
import { mountClientRoutes } from './client-routes';
import type { OAuthContext } from './context';
import { oauthContext } from './context';
import { openidConfiguration, smartConfiguration } from './discovery';
import { OAuthError, PageError, RedirectError } from './errors';
import { handleCreateLaunch } from './launch';
import { mountLoginRoutes } from './login-routes';
import { messagePage, sendPage, STYLESHEET } from './pages';
import { mountTokenRoutes, noStore } from './token-routes';

/** The style SMART apps may follow (smart_style_url, SMART "context-style"). */
const SMART_STYLE = {
  color_background: '#ffffff',
  color_error: '#a00000',
  color_highlight: '#0b5cad',
  color_modal_backdrop: '',
  color_success: '#1e7a35',
  color_text: '#1a1a1a',
  dim_border_radius: '4px',
  dim_font_size: '16px',
  dim_spacing_size: '16px',
  font_family_body: 'system-ui, sans-serif',
  font_family_heading: 'system-ui, sans-serif',
};

/**
 * The OAuth 2 / SMART App Launch 2.2 authorization server: discovery documents, and under
 * /oauth2 the authorization pages, token, revocation, introspection, JWKS, EHR launch
 * handles, the person's approvals and the admin client registry.
 */
export function mountOAuthRoutes(app: express.Express, deps: AuthDeps): void {
  const ctx = oauthContext(deps);
  // SMART: JSON whatever the Accept header says; CORS for any origin (response-headers.ts) — these are public.
  app.get('/fhir/R4/.well-known/smart-configuration', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(smartConfiguration(ctx.urls));
  });
  app.get('/.well-known/openid-configuration', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(openidConfiguration(ctx.urls));
  });
  app.use('/oauth2', oauthRouter(ctx));
}

function oauthRouter(ctx: OAuthContext): express.Router {
  const router = express.Router();
  router.get('/jwks', async (_req, res) => {
    // Short caching: a successor key is published a day before it signs.
    res.set('Cache-Control', 'public, max-age=300').json({ keys: await ctx.keys.publicJwks() });
  });
  router.get('/style.css', (_req, res) => {
    res.set({ 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }).send(STYLESHEET);
  });
  router.get('/smart-style.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=3600').json(SMART_STYLE);
  });
  // The interactive pages (/authorize, /login, /logout) are for the browser's top-level window
  // only: response-headers.ts answers no CORS for them, whatever the origin.
  mountAuthorizeRoutes(router, ctx);
  mountLoginRoutes(router, ctx);
  mountTokenRoutes(router, ctx);
  mountClientRoutes(router, ctx);
  router.post('/launch', (req, res) => handleCreateLaunch(ctx, req, res));
  router.get('/approvals', (req, res) => handleListApprovals(ctx, req, res));
  router.post('/approvals/:clientId/revoke', (req, res) => handleRevokeApproval(ctx, req, res));
  router.use(oauthErrors);
  return router;
}

/** Renders the authorization server's own errors; anything else goes on to the app's OperationOutcome handler. */
function oauthErrors(err: unknown, req: Request, res: Response, next: NextFunction): void {
  if (err instanceof OAuthError) {
    noStore(res);
    if (err.basicChallenge) {
      res.set('WWW-Authenticate', 'Basic realm="hale"');
    }
    res.status(err.status).json({ error: err.error, error_description: err.description });
    return;
  }
  if (err instanceof RedirectError) {
    const url = new URL(err.redirectUri);
    url.searchParams.set('error', err.error);
    url.searchParams.set('error_description', err.description);
    if (err.state !== undefined) {
      url.searchParams.set('state', err.state);
    }
    redirect(req, res, url.toString());
    return;
  }
  if (err instanceof PageError) {
    sendPage(res, err.status, messagePage(err.title, err.detail));
    return;
  }
  next(err);
}
