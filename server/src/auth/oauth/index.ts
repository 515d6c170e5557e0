/**
 * The OAuth 2 / SMART App Launch 2.2 authorization server: what the rest of Hale uses.
 * Everything else in this folder is internal.
 */
export { mountOAuthRoutes } from './routes';
export { verifyAccessToken } from './verify';
export { issueAccessToken, IssueError } from './issue';
export type { IssueAccessTokenInput } from './issue';
export { smartSecurityExtension, smartConfiguration, SMART_CAPABILITIES } from './discovery';
export {
  parseScopes,
  parseScope,
  parseResourceScope,
  resourceScopeCovers,
  scopeCovered,
  CONTEXT_SCOPES,
} from './scopes';
export type { ResourceScope, ParsedScopes, ParsedScope, Permission, ScopeContext, ContextScope } from './scopes';
export { createLaunch } from './launch';
export type { LaunchContext } from './launch';
export { pruneExpired } from './grants';
