import {
  randomBytes,
  scrypt as scryptCallback,
  timingSafeEqual,
  type ScryptOptions,
} from "node:crypto";
import { ConfigError } from "../../platform/settings.ts";

/**
 * Passwords are hashed with scrypt, which is memory-hard: N=2^15, r=8 needs 32 MiB per hash, which
 * is what makes a stolen table expensive to brute-force on GPUs. The cost is configurable as
 * log2(N) (PASSWORD_HASH_COST, subgraphs/users/config.ts); each step up doubles memory and login
 * time (~60 ms at 15 on a quiet core). Every hash carries its own N, r and p, so changing the
 * setting affects new hashes only: existing ones keep verifying with the parameters they were made with.
 */
export const PASSWORD_HASH_COST = Object.freeze({
  /** Production strength: N=2^15 (32 MiB, tens of ms per hash). */
  default: 15,
  /**
   * The hard floor: N=2^10 (1 MiB) still costs a brute-forcer a thousand times a plain hash, and
   * is what tests use so that logins under load take milliseconds, not seconds. Nothing hashes below it.
   */
  floor: 10,
  /** N=2^17 needs 128 MiB per hash; 2^18 would pass the 256 MiB `maxmem` allowed below. */
  max: 17,
});

/** The variable the cost is configured by; named in the error a cost out of bounds raises. */
export const PASSWORD_HASH_COST_ENV = "PASSWORD_HASH_COST";

const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const MAX_MEMORY = 256 * 1024 * 1024;

/** Refuses a cost outside [floor, max] with a ConfigError naming PASSWORD_HASH_COST. */
export function checkPasswordHashCost(cost: number): number {
  if (
    !Number.isInteger(cost) ||
    cost < PASSWORD_HASH_COST.floor ||
    cost > PASSWORD_HASH_COST.max
  )
    throw new ConfigError(
      PASSWORD_HASH_COST_ENV,
      `must be an integer from ${PASSWORD_HASH_COST.floor} (the floor) to ${PASSWORD_HASH_COST.max} (scrypt N = 2^cost), got ${cost}`,
    );
  return cost;
}

function scrypt(
  password: string,
  salt: Buffer,
  keyLength: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(
      password,
      salt,
      keyLength,
      { ...options, maxmem: MAX_MEMORY },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** `scrypt$N$r$p$salt$key`: the parameters travel with the hash. */
export async function hashPassword(
  password: string,
  { cost }: { cost: number },
): Promise<string> {
  const N = 2 ** checkPasswordHashCost(cost);
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, {
    N,
    r: R,
    p: P,
  });
  return [
    "scrypt",
    N,
    R,
    P,
    salt.toString("base64url"),
    key.toString("base64url"),
  ].join("$");
}

/** Checks a password against a stored hash with the parameters stored in it, whatever the setting is now. */
export async function verifyPassword(
  password: string,
  stored: string,
): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, "base64url");
  const actual = await scrypt(
    password.normalize("NFKC"),
    Buffer.from(salt, "base64url"),
    expected.length,
    { N: Number(n), r: Number(r), p: Number(p) },
  );
  return timingSafeEqual(actual, expected);
}

export interface PasswordHasher {
  /** The configured cost (log2 N) new hashes are made at. */
  readonly cost: number;
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
  /**
   * A hash of a random password at this cost: what a login for an unknown email is verified
   * against, so both paths cost the same and the response time does not reveal accounts.
   */
  dummyHash(): Promise<string>;
}

/** Hashing at `cost` (checked against the floor at once); verification follows each hash's own parameters. */
export function createPasswordHasher({
  cost,
}: {
  cost: number;
}): PasswordHasher {
  checkPasswordHashCost(cost);
  let dummy: Promise<string> | undefined;
  return {
    cost,
    hash: (password) => hashPassword(password, { cost }),
    verify: verifyPassword,
    dummyHash: () =>
      (dummy ??= hashPassword(randomBytes(16).toString("hex"), { cost })),
  };
}
