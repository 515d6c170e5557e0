import { randomUUID } from 'node:crypto';
import type { CryptoKey, JWK } from 'jose';
import { exportJWK, generateKeyPair, importJWK } from 'jose';
import type { Database, Queryable } from '../../db/database';
import { sql } from '../../db/sql';

/** Access tokens, login sessions and flow handles are signed RS384; id_tokens RS256 (OIDC and SMART require it). */
export type SigningAlg = 'RS256' | 'RS384' | 'ES384';
export const TOKEN_ALG: SigningAlg = 'RS384';
export const ID_TOKEN_ALG: SigningAlg = 'RS256';
const KEPT_ALGS: readonly SigningAlg[] = [TOKEN_ALG, ID_TOKEN_ALG];

const DAY_MS = 86_400_000;
/**
 * A key stays published this long after it stops signing. It must outlive everything it
 * signed: access tokens (≤ 1 h), id_tokens (1 h) and login sessions (8 h).
 */
const RETIRE_GRACE_MS = DAY_MS;
/** Keys are re-read this often, so replicas pick up each other's rotations. */
const RELOAD_MS = 60_000;
/** An unknown kid triggers a reload at most this often (a forged kid must not hammer the database). */
const UNKNOWN_KID_RELOAD_MS = 10_000;

interface KeyRow {
  kid: string;
  alg: SigningAlg;
  private_jwk: JWK;
  public_jwk: JWK;
  created_at: string;
  active_until: string;
  retire_at: string;
}

interface LoadedKey {
  kid: string;
  alg: SigningAlg;
  publicJwk: JWK;
  activeUntil: number;
  retireAt: number;
  privateJwk: JWK;
  privateKey?: CryptoKey;
  publicKey?: CryptoKey;
}

/**
 * The server's signing keys, kept in `signing_key`. Each algorithm has one signing key at a
 * time; its successor is created (and published in the JWKS) before the current key's
 * `active_until`, so verifiers that cache the JWKS already know the next key when it starts
 * signing, and a retired key stays published until the last token it signed has expired.
 * Private keys never leave this class except into the database.
 */
export class KeyStore {
  private keys: LoadedKey[] = [];
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly rotationDays: number
  ) {}

  /** The current signing key for an algorithm (rotating first when its time is up). */
  async signingKey(alg: SigningAlg): Promise<{ kid: string; key: CryptoKey }> {
    let key = this.current(alg);
    if (!key || Date.now() - this.loadedAt > RELOAD_MS) {
      await this.reload();
      key = this.current(alg);
    }
    if (!key) {
      throw new Error(`no ${alg} signing key`);
    }
    key.privateKey ??= (await importJWK(key.privateJwk, alg)) as CryptoKey;
    return { kid: key.kid, key: key.privateKey };
  }

  /** A published key by kid, for verifying Hale's own tokens. */
  async verificationKey(kid: string): Promise<{ alg: SigningAlg; key: CryptoKey } | undefined> {
    let key = this.published(kid);
    if (!key && Date.now() - this.loadedAt > UNKNOWN_KID_RELOAD_MS) {
      await this.reload();
      key = this.published(kid);
    }
    if (!key) {
      return undefined;
    }
    key.publicKey ??= (await importJWK(key.publicJwk, key.alg)) as CryptoKey;
    return { alg: key.alg, key: key.publicKey };
  }

  /** The public keys to publish at the JWKS endpoint. */
  async publicJwks(): Promise<JWK[]> {
    if (this.keys.length === 0 || Date.now() - this.loadedAt > RELOAD_MS) {
      await this.reload();
    }
    const now = Date.now();
    return this.keys.filter((k) => k.retireAt > now).map((k) => k.publicJwk);
  }

  /** Re-reads the keys, creating any that are missing or due (one replica at a time). */
  async reload(): Promise<void> {
    this.loading ??= this.db
      .transaction((tx) => ensureKeys(tx, this.rotationDays * DAY_MS))
      .then((rows) => {
        // Keep imported CryptoKeys, but take times from the rows (an operator may shorten them).
        const old = new Map(this.keys.map((k) => [k.kid, k]));
        this.keys = rows.map((r) => ({ ...old.get(r.kid), ...toLoaded(r) }));
        this.loadedAt = Date.now();
      })
      .finally(() => {
        this.loading = undefined;
      });
    await this.loading;
  }

  private current(alg: SigningAlg): LoadedKey | undefined {
    const now = Date.now();
    return this.keys
      .filter((k) => k.alg === alg && k.activeUntil > now)
      .sort((a, b) => a.activeUntil - b.activeUntil)[0];
  }

  private published(kid: string): LoadedKey | undefined {
    return this.keys.find((k) => k.kid === kid && k.retireAt > Date.now());
  }
}

function toLoaded(r: KeyRow): LoadedKey {
  return {
    kid: r.kid,
    alg: r.alg,
    publicJwk: r.public_jwk,
    privateJwk: r.private_jwk,
    activeUntil: Date.parse(r.active_until),
    retireAt: Date.parse(r.retire_at),
  };
}

async function ensureKeys(tx: Queryable, rotationMs: number): Promise<KeyRow[]> {
  await tx.query(sql`SELECT pg_advisory_xact_lock(hashtext('hale.signing_key'))`);
  const rows = await tx.query<KeyRow>(
    sql`SELECT kid, alg, private_jwk, public_jwk, created_at, active_until, retire_at
          FROM signing_key WHERE retire_at > now() ORDER BY active_until`
  );
  // The successor is published this long before it starts signing (at most half a rotation).
  const prepublishMs = Math.min(DAY_MS, rotationMs / 2);
  const now = Date.now();
  for (const alg of KEPT_ALGS) {
    const latest = rows
      .filter((r) => r.alg === alg && Date.parse(r.active_until) > now)
      .map((r) => Date.parse(r.active_until))
      .sort((a, b) => b - a)[0];
    if (latest === undefined) {
      rows.push(await createKey(tx, alg, now + rotationMs));
    } else if (latest - now < prepublishMs) {
      rows.push(await createKey(tx, alg, latest + rotationMs));
    }
  }
  return rows;
}

async function createKey(tx: Queryable, alg: SigningAlg, activeUntil: number): Promise<KeyRow> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const kid = randomUUID();
  const private_jwk = { ...(await exportJWK(privateKey)), kid, alg };
  const public_jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const active = new Date(activeUntil).toISOString();
  const retire = new Date(activeUntil + RETIRE_GRACE_MS).toISOString();
  const [row] = await tx.query<KeyRow>(
    sql`INSERT INTO signing_key (kid, alg, private_jwk, public_jwk, active_until, retire_at)
        VALUES (${kid}, ${alg}, ${JSON.stringify(private_jwk)}, ${JSON.stringify(public_jwk)}, ${active}, ${retire})
        RETURNING kid, alg, private_jwk, public_jwk, created_at, active_until, retire_at`
  );
  return row as KeyRow;
}
