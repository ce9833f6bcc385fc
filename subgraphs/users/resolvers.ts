import { randomUUID } from "node:crypto";
import { isAdmin } from "../../platform/authorization.ts";
import { badInput, codedError, notFound } from "../../platform/errors.ts";
import type { Principal } from "../../platform/principal.ts";
import { isId, parseId } from "../../platform/ids.ts";
import { DateTimeScalar } from "../../platform/scalars.ts";
import type { UserLoaders } from "./loaders.ts";
import type { PasswordHasher } from "./passwords.ts";
import type { UserRepository, UserRow } from "./repository.ts";
import type { TokenIssuer } from "./tokens.ts";
import type { Resolvers } from "./generated/resolvers-types.ts";

export interface UsersContext {
  loaders: UserLoaders;
  repo: UserRepository;
  tokens: TokenIssuer;
  /** Hashes new passwords at the configured cost; verifies stored ones by their own parameters. */
  passwords: PasswordHasher;
  /** The caller the router vouched for; null for anonymous calls. */
  principal: Principal | null;
}

/** Email and role are personal: the user themselves and admins only. */
function personal<K extends "email" | "role">(key: K) {
  return (
    user: ReturnType<typeof toUser> & { ownedByCaller?: boolean },
    _args: unknown,
    { principal }: UsersContext,
  ) => {
    // signUp/logIn return the account whose credentials were just checked: that caller is its owner.
    if (user.ownedByCaller) return user[key];
    if (!principal)
      throw codedError(
        "UNAUTHENTICATED",
        `User.${key} requires a signed-in user`,
      );
    if (!isAdmin(principal) && principal.id !== user.id)
      throw codedError(
        "FORBIDDEN",
        `User.${key} is visible to the user and admins only`,
      );
    return user[key];
  };
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,}$/;

/** A user as resolvers hand it on; `ownedByCaller` marks the caller's own account (signUp, logIn). */
export type UserView = ReturnType<typeof toUser> & { ownedByCaller?: boolean };

function toUser(row: UserRow) {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    createdAt: row.created_at,
  };
}

async function authPayload(tokens: TokenIssuer, row: UserRow) {
  return {
    token: await tokens.issue({ id: row.id, role: row.role }),
    user: { ...toUser(row), ownedByCaller: true },
  };
}

/** The one answer to credentials that do not match, whatever the reason: logIn and signUp alike. */
const wrongCredentials = () =>
  codedError("UNAUTHENTICATED", "invalid email or password");

/** An existing account for these credentials: signed in when the password is its own, refused otherwise. */
async function signInOrRefuse(
  tokens: TokenIssuer,
  row: (UserRow & { password_hash: string }) | undefined,
  passwordMatches: boolean,
) {
  if (!row || !passwordMatches) throw wrongCredentials();
  return authPayload(tokens, row);
}

export const resolvers: Resolvers<UsersContext> = {
  DateTime: DateTimeScalar,
  Query: {
    async me(_root, _args, { principal, loaders }) {
      if (!principal) return null;
      const row = await loaders.userById.load(principal.id);
      return row ? toUser(row) : null;
    },
    async user(_root, { id }, { loaders }) {
      const row = await loaders.userById.load(parseId(id));
      if (!row) throw notFound("User", id);
      return toUser(row);
    },
  },
  Mutation: {
    async signUp(_root, { input }, { repo, tokens, passwords }) {
      const email = input.email.trim().toLowerCase();
      const name = input.name.trim();
      if (!EMAIL.test(email) || email.length > 320)
        throw badInput("input.email", "email is not a valid address");
      if (name.length < 1 || name.length > 100)
        throw badInput("input.name", "name must be 1 to 100 characters");
      if (input.password.length < 8 || input.password.length > 200)
        throw badInput(
          "input.password",
          "password must be 8 to 200 characters",
        );
      // Never says whether the email is taken (docs/security.md, "Account enumeration"): a taken
      // email signs its owner in (a repeated signUp) and otherwise fails exactly like logIn with a
      // wrong password. Both paths do the same work, one verification and one hash, so the
      // response time does not tell a taken email from a free one either.
      const existing = await repo.credentialsByEmail(email);
      const [matches, passwordHash] = await Promise.all([
        passwords.verify(
          input.password,
          existing?.password_hash ?? (await passwords.dummyHash()),
        ),
        passwords.hash(input.password),
      ]);
      if (existing) return signInOrRefuse(tokens, existing, matches);
      const created = await repo.insertIfNew({
        id: randomUUID(),
        email,
        name,
        role: "CUSTOMER",
        passwordHash,
      });
      if (created) return authPayload(tokens, created);
      // A concurrent signUp took the email between the read and the insert: answer as for a taken one.
      const winner = await repo.credentialsByEmail(email);
      return signInOrRefuse(
        tokens,
        winner,
        winner !== undefined &&
          (await passwords.verify(input.password, winner.password_hash)),
      );
    },
    async logIn(_root, { email, password }, { repo, tokens, passwords }) {
      const row = await repo.credentialsByEmail(email.trim().toLowerCase());
      // Verify against a dummy hash for unknown emails so response time does not reveal accounts.
      const valid = await passwords.verify(
        password,
        row?.password_hash ?? (await passwords.dummyHash()),
      );
      return signInOrRefuse(tokens, row, valid);
    },
  },
  User: {
    email: personal("email"),
    role: personal("role"),
    async __resolveReference(reference, { loaders }) {
      if (!isId(reference.id)) return null;
      const row = await loaders.userById.load(reference.id.toLowerCase());
      return row ? toUser(row) : null;
    },
  },
};
