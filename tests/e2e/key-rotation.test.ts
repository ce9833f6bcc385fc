import {
  createLocalJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
} from "jose";
import { describe, expect, it } from "vitest";
import { demoUsers } from "../../platform/demo-data.ts";
import { rotateSigningKey } from "../../subgraphs/users/tokens.ts";
import { pgliteBackend } from "../support/storage.ts";
import { bearerFor, gql, stackForFile } from "../support/stack.ts";

describe("signing key rotation", () => {
  const ada = demoUsers[1]!;
  // No cooldown: the router must refetch the JWKS for the new kid right after the rotation.
  const stack = stackForFile(pgliteBackend, {
    routerEnv: { JWKS_COOLDOWN_MS: "0" },
  });

  const jwksUrl = () =>
    stack().subgraphs.users.url.replace("/graphql", "/.well-known/jwks.json");
  const publishedKids = async () =>
    ((await (await fetch(jwksUrl())).json()) as JSONWebKeySet).keys.map(
      (key) => key.kid,
    );
  const me = async (headers: Record<string, string>) =>
    gql(stack().routerUrl, "{ me { id email } }", {}, headers);

  it("signs with the new key and keeps accepting tokens of the old one during the overlap", async () => {
    const before = await bearerFor(stack().routerUrl, ada.email);
    const oldKid = decodeProtectedHeader(
      before.authorization!.slice("Bearer ".length),
    ).kid;
    // The router has fetched the JWKS for the old key before the rotation happens.
    expect((await me(before)).data?.me).toEqual({
      id: ada.id,
      email: ada.email,
    });

    const newKid = await rotateSigningKey(stack().subgraphs.users.db);
    expect(newKid).not.toBe(oldKid);

    const after = await bearerFor(stack().routerUrl, ada.email);
    const afterToken = after.authorization!.slice("Bearer ".length);
    expect(decodeProtectedHeader(afterToken).kid).toBe(newKid);
    expect(await publishedKids()).toEqual([newKid, oldKid]);

    const jwks = createLocalJWKSet(
      (await (await fetch(jwksUrl())).json()) as JSONWebKeySet,
    );
    await expect(
      jwtVerify(afterToken, jwks, { algorithms: ["ES256"] }),
    ).resolves.toBeTruthy();

    // Both tokens work through the router: the new kid triggers one JWKS refetch, the old key is still there.
    expect((await me(after)).data?.me).toEqual({
      id: ada.id,
      email: ada.email,
    });
    expect((await me(before)).data?.me).toEqual({
      id: ada.id,
      email: ada.email,
    });
  });

  it("stops publishing a retired key once a full token lifetime has passed since its retirement", async () => {
    const current = await publishedKids();
    const retired = current.slice(1);
    expect(retired.length).toBeGreaterThan(0);
    // Age the retirement instead of waiting: the overlap is one token lifetime (3600 s by default).
    await stack().subgraphs.users.db.query(
      `UPDATE users.signing_keys SET retired_at = now() - interval '3601 seconds' WHERE retired_at IS NOT NULL`,
    );
    expect(await publishedKids()).toEqual([current[0]]);
  });
});
