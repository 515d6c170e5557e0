import { CONTEXT_SCOPES } from './scopes';
import type { CapabilityStatementRestSecurity } from '@medplum/fhirtypes';
import type { OAuthUrls } from './context';
import { oauthUrls } from './context';

/** The SMART capabilities Hale implements (conformance.html#capabilities); nothing listed here is aspirational. */
export const SMART_CAPABILITIES = [
  'launch-ehr',
  'launch-standalone',
  'authorize-post',
  'client-public',
  'client-confidential-symmetric',
  'client-confidential-asymmetric',
  'sso-openid-connect',
  'context-banner',
  'context-style',
  'context-ehr-patient',
  'context-ehr-encounter',
  'context-standalone-patient',
  'permission-offline',
  'permission-online',
  'permission-patient',
  'permission-user',
  'permission-v1',
  'permission-v2',
];

const SCOPES_SUPPORTED = [
  ...CONTEXT_SCOPES,
  'patient/*.cruds',
  'patient/*.rs',
  'user/*.cruds',
  'user/*.rs',
  'system/*.cruds',
  'system/*.rs',
  'patient/*.read',
  'patient/*.write',
  'user/*.read',
  'user/*.write',
  'system/*.read',
  'system/*.write',
];

const AUTH_METHODS = ['private_key_jwt', 'client_secret_basic', 'client_secret_post'];
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'];

/** GET [fhir base]/.well-known/smart-configuration */
export function smartConfiguration(urls: OAuthUrls): Record<string, unknown> {
  return {
    issuer: urls.issuer,
    jwks_uri: urls.jwks,
    authorization_endpoint: urls.authorize,
    token_endpoint: urls.token,
    introspection_endpoint: urls.introspect,
    revocation_endpoint: urls.revoke,
    grant_types_supported: GRANT_TYPES,
    response_types_supported: ['code'],
    scopes_supported: SCOPES_SUPPORTED,
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    code_challenge_methods_supported: ['S256'],
    capabilities: SMART_CAPABILITIES,
  };
}

/** GET /.well-known/openid-configuration (OpenID Connect Discovery 1.0 §3). */
export function openidConfiguration(urls: OAuthUrls): Record<string, unknown> {
  return {
    issuer: urls.issuer,
    authorization_endpoint: urls.authorize,
    token_endpoint: urls.token,
    jwks_uri: urls.jwks,
    introspection_endpoint: urls.introspect,
    revocation_endpoint: urls.revoke,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: GRANT_TYPES,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: SCOPES_SUPPORTED,
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'fhirUser', 'name'],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    code_challenge_methods_supported: ['S256'],
    prompt_values_supported: ['none', 'login', 'consent'],
  };
}

/**
 * The CapabilityStatement `rest.security` for /metadata: the SMART-on-FHIR service coding and
 * the oauth-uris extension. Takes the server root (config.serverUrl); a FHIR base URL
 * ending in /fhir/R4 is accepted too.
 */
export function smartSecurityExtension(baseUrl: string): CapabilityStatementRestSecurity {
  const serverUrl = baseUrl.replace(/\/+$/, '').replace(/\/fhir\/R4$/, '');
  const urls = oauthUrls(serverUrl, `${serverUrl}/fhir/R4`);
  return {
    cors: true,
    service: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
            code: 'SMART-on-FHIR',
            display: 'SMART-on-FHIR',
          },
        ],
        text: 'OAuth2 using the SMART App Launch 2.2 profile',
      },
    ],
    extension: [
      {
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: [
          { url: 'authorize', valueUri: urls.authorize },
          { url: 'token', valueUri: urls.token },
          { url: 'revoke', valueUri: urls.revoke },
          { url: 'introspect', valueUri: urls.introspect },
        ],
      },
    ],
  };
}
