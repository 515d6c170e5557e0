import type express from 'express';
import { createAccountRouter } from './accounts';
import type { AuthDeps } from './deps';
import { mountOAuthRoutes } from './oauth';

/**
 * Mounts the identity routes: accounts and onboarding (/auth/…) and the OAuth 2 / SMART
 * authorization server (/oauth2/…, /.well-known/…, /fhir/R4/.well-known/smart-configuration).
 * Each is a router factory in its own folder, mounted on one line below.
 */
export function mountAuthRoutes(app: express.Express, deps: AuthDeps): void {
  app.use('/auth', createAccountRouter(deps));
  mountOAuthRoutes(app, deps);
}
