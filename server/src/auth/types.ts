/** Account roles (issue: identity and onboarding). */
export const ROLES = [
  'patient',
  'provider',
  'medical-assistant',
  'partner',
  'research-partner',
  'developer',
  'admin',
] as const;
export type Role = (typeof ROLES)[number];

export type AccountStatus = 'pending' | 'active' | 'suspended' | 'rejected';

/** A row of the `account` table as the rest of Hale sees it (never the password hash). */
export interface Account {
  id: string;
  email: string;
  emailVerified: boolean;
  status: AccountStatus;
  roles: Role[];
  name: string | null;
  phone: string | null;
  /** The person's FHIR profile resource, e.g. { type: 'Patient', id }. */
  profile: { type: 'Patient' | 'Practitioner' | 'RelatedPerson'; id: string } | null;
  organizationId: string | null;
}

/**
 * The claims of a Hale access token (a JWT signed by the authorization server) that the FHIR
 * API needs to decide access. Produced by the token endpoint and the `token` CLI command.
 */
export interface AccessTokenClaims {
  iss: string;
  /** The FHIR base URL the token is for. */
  aud: string;
  /** Account id for user tokens, client id for backend services. */
  sub: string;
  client_id: string;
  /** Space-separated granted scopes, exactly as in the token response. */
  scope: string;
  /** Token id (oauth_access_token.jti); its grant's revocation is checked on every request. */
  jti: string;
  grant_id: string;
  /** Launch context. */
  patient?: string;
  encounter?: string;
  /** e.g. "Patient/123" or "Practitioner/456" (relative). */
  fhirUser?: string;
  roles?: Role[];
  exp: number;
  iat: number;
}
