-- Identity and authorization: accounts (not FHIR resources), single-use tokens and codes,
-- and the OAuth 2 / SMART authorization server's state. Secrets are stored hashed.

CREATE TABLE account (
  id              uuid PRIMARY KEY,
  email           text NOT NULL,
  password_hash   text,
  email_verified  boolean NOT NULL DEFAULT false,
  -- pending: an application awaiting approval; rejected: an application turned down
  status          text NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'rejected')),
  roles           text[] NOT NULL,
  name            text,
  phone           text,
  -- the person's FHIR profile: Patient, Practitioner, RelatedPerson (id of the resource)
  profile_type    text,
  profile_id      text,
  -- staff of a partner Organization (pharmacy, lab, research partner)
  organization_id text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX account_email_idx ON account (lower(email));

-- Single-use secrets: email verification links, password resets, one-time login codes.
-- Attempt counters live here (not in Redis) so they survive a Redis outage.
CREATE TABLE account_token (
  id          uuid PRIMARY KEY,
  account_id  uuid NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  purpose     text NOT NULL CHECK (purpose IN ('verify-email', 'reset-password', 'login-code')),
  token_hash  text NOT NULL,
  channel     text,
  attempts    integer NOT NULL DEFAULT 0,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_token_account_idx ON account_token (account_id, purpose);
CREATE UNIQUE INDEX account_token_hash_idx ON account_token (token_hash);

CREATE TABLE oauth_client (
  client_id       text PRIMARY KEY,
  name            text NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('public', 'confidential-symmetric', 'confidential-asymmetric')),
  secret_hash     text,
  jwks            jsonb,
  jwks_uri        text,
  redirect_uris   text[] NOT NULL DEFAULT '{}',
  -- the scopes this client may ever be granted
  allowed_scopes  text[] NOT NULL DEFAULT '{}',
  grant_types     text[] NOT NULL DEFAULT '{}',
  launch_url      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  disabled_at     timestamptz
);

-- One authorization of a client (by a user, or for a backend service): the root of a
-- family of codes, access tokens and refresh tokens, all revoked together.
CREATE TABLE oauth_grant (
  id          uuid PRIMARY KEY,
  client_id   text NOT NULL REFERENCES oauth_client (client_id) ON DELETE CASCADE,
  account_id  uuid REFERENCES account (id) ON DELETE CASCADE,
  scopes      text[] NOT NULL,
  -- launch context: patient, encounter, fhirUser, need_patient_banner, smart_style_url …
  context     jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX oauth_grant_account_idx ON oauth_grant (account_id, client_id);

CREATE TABLE oauth_code (
  code_hash       text PRIMARY KEY,
  grant_id        uuid NOT NULL REFERENCES oauth_grant (id) ON DELETE CASCADE,
  client_id       text NOT NULL,
  redirect_uri    text NOT NULL,
  code_challenge  text NOT NULL,
  nonce           text,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz
);

CREATE TABLE oauth_refresh_token (
  token_hash  text PRIMARY KEY,
  grant_id    uuid NOT NULL REFERENCES oauth_grant (id) ON DELETE CASCADE,
  scopes      text[] NOT NULL,
  expires_at  timestamptz,
  -- set when rotated: presenting a used refresh token again revokes the whole grant
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_refresh_token_grant_idx ON oauth_refresh_token (grant_id);

-- Issued access tokens (JWTs) by jti, for revocation and introspection.
CREATE TABLE oauth_access_token (
  jti         uuid PRIMARY KEY,
  grant_id    uuid NOT NULL REFERENCES oauth_grant (id) ON DELETE CASCADE,
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);
CREATE INDEX oauth_access_token_grant_idx ON oauth_access_token (grant_id);

-- A user's remembered approval of a client's scopes (revocable by the user).
CREATE TABLE oauth_approval (
  account_id  uuid NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  client_id   text NOT NULL REFERENCES oauth_client (client_id) ON DELETE CASCADE,
  scopes      text[] NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, client_id)
);

-- Client assertion ids seen (private_key_jwt replay protection) until they expire.
CREATE TABLE oauth_jti (
  client_id   text NOT NULL,
  jti         text NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);

-- Token signing keys. A key signs until active_until and stays published until retire_at,
-- so tokens it signed verify until they expire.
CREATE TABLE signing_key (
  kid           text PRIMARY KEY,
  alg           text NOT NULL,
  private_jwk   jsonb NOT NULL,
  public_jwk    jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  active_until  timestamptz NOT NULL,
  retire_at     timestamptz NOT NULL
);

-- EHR launch handles issued by the portal (`launch` parameter), single use, short-lived.
CREATE TABLE smart_launch (
  id          text PRIMARY KEY,
  account_id  uuid REFERENCES account (id) ON DELETE CASCADE,
  context     jsonb NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
