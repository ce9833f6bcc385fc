import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../../platform/settings.ts";
import { loadUsersConfig } from "../../../../subgraphs/users/config.ts";
import {
  createPasswordHasher,
  hashPassword,
  PASSWORD_HASH_COST,
  verifyPassword,
} from "../../../../subgraphs/users/passwords.ts";

/** `scrypt$N$r$p$salt$key` split into its parts. */
function parts(hash: string) {
  const [scheme, n, r, p, salt, key] = hash.split("$");
  return { scheme, n: Number(n), r: Number(r), p: Number(p), salt, key };
}

describe("password hashing (subgraphs/users/passwords.ts)", () => {
  it("stores the parameters a hash was made with in the hash: N = 2^cost, r = 8, p = 1, a salt and a 32-byte key", async () => {
    for (const cost of [PASSWORD_HASH_COST.floor, 11]) {
      const hash = await createPasswordHasher({ cost }).hash("a password");
      expect(parts(hash)).toMatchObject({
        scheme: "scrypt",
        n: 2 ** cost,
        r: 8,
        p: 1,
      });
      expect(Buffer.from(parts(hash).key!, "base64url")).toHaveLength(32);
    }
  });

  it("verifies a hash made at one cost after the cost setting changed, in either direction, and refuses a wrong password", async () => {
    const old = await createPasswordHasher({ cost: 11 }).hash("kept secret");
    for (const cost of [PASSWORD_HASH_COST.floor, 12]) {
      const hasher = createPasswordHasher({ cost });
      expect(await hasher.verify("kept secret", old)).toBe(true);
      expect(await hasher.verify("another secret", old)).toBe(false);
    }
  });

  it("verifies a hash at the production default that the floor-cost hasher did not make (the seeded demo hashes of an existing database)", async () => {
    const production = await hashPassword("demo", {
      cost: PASSWORD_HASH_COST.default,
    });
    expect(parts(production).n).toBe(2 ** 15);
    expect(
      await createPasswordHasher({ cost: PASSWORD_HASH_COST.floor }).verify(
        "demo",
        production,
      ),
    ).toBe(true);
  });

  it("makes the unknown-email dummy hash at the hasher's own cost, once", async () => {
    const hasher = createPasswordHasher({ cost: 11 });
    const dummy = await hasher.dummyHash();
    expect(parts(dummy).n).toBe(2 ** 11);
    expect(await hasher.dummyHash()).toBe(dummy);
  });

  it("refuses a cost below the floor (or above the maximum, or not an integer) with a ConfigError naming PASSWORD_HASH_COST, and hashes nothing", async () => {
    for (const cost of [
      PASSWORD_HASH_COST.floor - 1,
      0,
      PASSWORD_HASH_COST.max + 1,
      12.5,
    ]) {
      expect(() => createPasswordHasher({ cost })).toThrow(ConfigError);
      expect(() => createPasswordHasher({ cost })).toThrow(
        expect.objectContaining({ variable: "PASSWORD_HASH_COST" }),
      );
      await expect(hashPassword("a password", { cost })).rejects.toThrow(
        ConfigError,
      );
    }
  });

  it("reads PASSWORD_HASH_COST: 15 by default, the floor accepted, below it a ConfigError naming the variable", () => {
    expect(loadUsersConfig({}).passwordHashCost).toBe(15);
    expect(
      loadUsersConfig({ PASSWORD_HASH_COST: String(PASSWORD_HASH_COST.floor) })
        .passwordHashCost,
    ).toBe(PASSWORD_HASH_COST.floor);
    for (const raw of ["9", "18", "fast"]) {
      let error: unknown;
      try {
        loadUsersConfig({ PASSWORD_HASH_COST: raw });
      } catch (caught) {
        error = caught;
      }
      expect(error, raw).toBeInstanceOf(ConfigError);
      expect(error, raw).toMatchObject({ variable: "PASSWORD_HASH_COST" });
    }
  });

  it("keeps verifying a stored hash whose format is not scrypt's as a mismatch, not an error", async () => {
    expect(await verifyPassword("x", "bcrypt$2b$10$abc")).toBe(false);
  });
});
