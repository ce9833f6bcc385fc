import { randomUUID } from "node:crypto";
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import type { Database, Sql } from "../../platform/database.ts";

export const TOKEN_ALGORITHM = "ES256";

export interface TokenSubject {
  id: string;
  role: "CUSTOMER" | "ADMIN";
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

async function insertKey(tx: Sql): Promise<KeyRow> {
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALGORITHM, {
    extractable: true,
  });
  const kid = randomUUID();
  const privateJwk = {
    ...(await exportJWK(privateKey)),
    kid,
    alg: TOKEN_ALGORITHM,
  };
  const publicJwk = {
    ...(await exportJWK(publicKey)),
    kid,
    alg: TOKEN_ALGORITHM,
    use: "sig",
  };
  const [created] = await tx.query<KeyRow>(
    "INSERT INTO users.signing_keys (kid, algorithm, private_jwk, public_jwk) VALUES ($1, $2, $3, $4) RETURNING *",
    [
      kid,
      TOKEN_ALGORITHM,
      JSON.stringify(privateJwk),
      JSON.stringify(publicJwk),
    ],
  );
  return created!;
}

const KEY_LOCK = "users:signing-key";

/**
 * Retires the current signing key and creates the one that signs from now on; returns its kid.
 * The retired key keeps being published in the JWKS for one token lifetime (see `jwks()`), so every
 * token it signed stays verifiable until it expires. Run it with `npm run users:rotate-key`.
 */
export async function rotateSigningKey(db: Database): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [KEY_LOCK]);
    await tx.query(
      "UPDATE users.signing_keys SET retired_at = now() WHERE retired_at IS NULL",
    );
    return (await insertKey(tx)).kid;
  });
}

/**
 * Issues ES256 access tokens with `kid` set. Keys live in the users database, so every replica
 * signs with the same key and a restart keeps issued tokens valid. Each issue reads which key is
 * current (one indexed row, next to a ~60 ms password hash), so a rotation takes effect on every
 * replica at once; imported keys are cached by kid.
 */
export function createTokenIssuer({
  db,
  issuer,
  audience,
  ttlSeconds,
}: {
  db: Database;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}): TokenIssuer {
  const imported = new Map<
    string,
    Promise<Awaited<ReturnType<typeof importJWK>>>
  >();

  async function currentKey(): Promise<KeyRow> {
    const [current] = await db.query<KeyRow>(
      "SELECT * FROM users.signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1",
    );
    if (current) return current;
    return db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [KEY_LOCK]);
      const [existing] = await tx.query<KeyRow>(
        "SELECT * FROM users.signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1",
      );
      return existing ?? insertKey(tx);
    });
  }

  function importOnce(row: KeyRow) {
    let key = imported.get(row.kid);
    if (!key) {
      key = importJWK(row.private_jwk, TOKEN_ALGORITHM);
      key.catch(() => imported.delete(row.kid));
      imported.set(row.kid, key);
    }
    return key;
  }

  return {
    async issue(subject) {
      const row = await currentKey();
      const key = await importOnce(row);
      const kid = row.kid;
      return new SignJWT({
        role: subject.role,
        scope: subject.role === "ADMIN" ? "admin" : "customer",
      })
        .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid, typ: "JWT" })
        .setSubject(subject.id)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setNotBefore("0s")
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
