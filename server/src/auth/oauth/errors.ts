/**
 * The three ways the authorization server reports a failure, because OAuth fixes who may see
 * what: JSON for the token, revocation and introspection endpoints (RFC 6749 §5.2), a
 * redirect back to the client once its redirect_uri is known to be registered (§4.1.2.1),
 * and an HTML page before that — never a redirect to an unverified URI.
 */

/** An RFC 6749 §5.2 error answered as JSON: `{ error, error_description }`. */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
    /** Set when the client tried HTTP Basic: RFC 6749 §5.2 then requires WWW-Authenticate. */
    readonly basicChallenge = false
  ) {
    super(`${error}: ${description}`);
  }
}

/** An error sent back to the client's (already validated) redirect_uri. */
export class RedirectError extends Error {
  constructor(
    readonly redirectUri: string,
    readonly state: string | undefined,
    readonly error: string,
    readonly description: string
  ) {
    super(`${error}: ${description}`);
  }
}

/** An error shown to the person in the browser, because there is no safe place to redirect. */
export class PageError extends Error {
  constructor(
    readonly title: string,
    readonly detail: string,
    readonly status = 400
  ) {
    super(`${title}: ${detail}`);
  }
}
