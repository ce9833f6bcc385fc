import { post } from "./load.ts";

const LOG_IN =
  "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }";

/** Signs in through `routerUrl`'s logIn mutation: the headers that make a request that user's. */
export async function signedInHeaders(
  routerUrl: string,
  { email, password }: { email: string; password: string },
): Promise<{ authorization: string }> {
  const login = await post(routerUrl, {
    query: LOG_IN,
    variables: { e: email, p: password },
  });
  const { token } = (login.json.data as { logIn: { token: string } }).logIn;
  return { authorization: `Bearer ${token}` };
}
