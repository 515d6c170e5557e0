import { createHash } from 'node:crypto';
import { CompactSign } from 'jose';
import type { KeyStore } from '../auth/oauth/keys';
import { TOKEN_ALG } from '../auth/oauth/keys';

/** What a document signature attests: who signed which bytes of which document, when. */
export interface SignedClaims {
  /** The signer (Practitioner/… or PractitionerRole/…), authenticated by their access token. */
  signer: string;
  /** The DocumentReference and Binary the signature is for. */
  document: string;
  binary: string;
  /** SHA-256 of the signed file, base64url. */
  sha256: string;
  when: string;
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('base64url');

/**
 * A compact JWS over the claims, signed with the server's current signing key (the JWKS at
 * /oauth2/jwks publishes it): Hale attests that the signed-in practitioner signed this
 * file. Practitioners hold no keys of their own here, so the server signs on their behalf.
 */
export type DocumentSigner = (claims: SignedClaims) => Promise<string>;

export function keyStoreSigner(keys: () => KeyStore): DocumentSigner {
  return async (claims) => {
    const { kid, key } = await keys().signingKey(TOKEN_ALG);
    return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: TOKEN_ALG, kid, typ: 'hale-document-signature+jws' })
      .sign(key);
  };
}
