import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Database } from '../../platform/database.ts';

export const TOKEN_ALGORITHM = 'ES256';

export interface TokenSubject {
  id: string;
  role: 'CUSTOMER' | 'ADMIN';
}

export interface TokenIssuer {
  issue(subject: TokenSubject): Promise<string>;
  /** Public keys of every key whose tokens may still be valid. */
  jwks(): Promise<{ keys: JWK[] }>;
}

interface KeyRow {
  kid: string;
  private_jwk: JWK;
  public_jwk: JWK;
  created_at: Date;
  retired_at: Date | null;
}

/**
 * Issues ES256 access tokens with `kid` set. Keys live in the users database, so every replica
 * signs with the same key and a restart keeps issued tokens valid.
 */
export function createTokenIssuer({ db, issuer, audience, ttlSeconds }: { db: Database; issuer: string; audience: string; ttlSeconds: number }): TokenIssuer {
  let signingKey: Promise<{ kid: string; key: Awaited<ReturnType<typeof importJWK>> }> | undefined;

  async function loadOrCreateKey() {
    const row = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['users:signing-key']);
      const [existing] = await tx.query<KeyRow>('SELECT * FROM users.signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1');
      if (existing) return existing;
      const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALGORITHM, { extractable: true });
      const kid = randomUUID();
      const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: TOKEN_ALGORITHM };
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: TOKEN_ALGORITHM, use: 'sig' };
      const [created] = await tx.query<KeyRow>(
        'INSERT INTO users.signing_keys (kid, algorithm, private_jwk, public_jwk) VALUES ($1, $2, $3, $4) RETURNING *',
        [kid, TOKEN_ALGORITHM, JSON.stringify(privateJwk), JSON.stringify(publicJwk)],
      );
      return created!;
    });
    return { kid: row.kid, key: await importJWK(row.private_jwk, TOKEN_ALGORITHM) };
  }

  return {
    async issue(subject) {
      signingKey ??= loadOrCreateKey().catch((error: unknown) => {
        signingKey = undefined;
        throw error;
      });
      const { kid, key } = await signingKey;
      return new SignJWT({ role: subject.role, scope: subject.role === 'ADMIN' ? 'admin' : 'customer' })
        .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid, typ: 'JWT' })
        .setSubject(subject.id)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setNotBefore('0s')
        .setExpirationTime(`${ttlSeconds}s`)
        .setJti(randomUUID())
        .sign(key);
    },
    async jwks() {
      // A retired key stays published for one token lifetime after retirement.
      const rows = await db.query<KeyRow>(
        `SELECT kid, public_jwk FROM users.signing_keys
          WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)
          ORDER BY created_at DESC`,
        [ttlSeconds],
      );
      return { keys: rows.map((row) => row.public_jwk) };
    },
  };
}
