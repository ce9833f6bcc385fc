import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInternalTokenSigner, INTERNAL_TOKEN_HEADER } from '../../platform/internal-token.ts';
import type { Stack } from '../../stack.ts';
import { backends } from '../support/storage.ts';
import { bootStack, gql } from '../support/stack.ts';

const pglite = backends.find((backend) => backend.name === 'pglite')!;

/** Misspellings whose graphql-js errors would suggest the real schema name. */
const GUESSES: Array<[string, string, Record<string, unknown>]> = [
  ['an unknown field', '{ prodcts(first: 1) { totalCount } }', {}],
  ['an unknown argument', '{ products(frist: 1) { totalCount } }', {}],
  ['an unknown input field in a literal', 'mutation { signUp(input: { emial: "a@example.com", name: "A", password: "long enough password" }) { token } }', {}],
  ['an unknown input field in variables', 'mutation($input: SignUpInput!) { signUp(input: $input) { token } }', { input: { emial: 'a@example.com', name: 'A', password: 'long enough password' } }],
  ['an unknown type in a fragment', '{ products(first: 1) { edges { node { ... on Prodct { id } } } } }', {}],
];

describe.each([false, true])('schema hints in client errors with production=%s', (production) => {
  const internalTokenSecret = randomBytes(32).toString('base64url');
  let stack: Stack;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const opened = await pglite.open();
    drop = opened.drop;
    stack = await bootStack(opened.storage, { production, internalTokenSecret });
  });
  afterAll(async () => {
    await stack?.stop();
    await drop?.();
  });

  it.each(GUESSES)(`${production ? 'never suggest' : 'suggest'} names for %s at the router`, async (_label, query, variables) => {
    const response = await gql(stack.routerUrl, query, variables);
    expect(response.errors?.length).toBeGreaterThan(0);
    const text = JSON.stringify(response.errors);
    if (production) expect(text).not.toMatch(/Did you mean|"products"|"first"|"email"|"Product"/);
    else expect(text).toMatch(/Did you mean/);
  });

  it(`${production ? 'never suggest' : 'suggest'} names in a subgraph called directly with a router token`, async () => {
    const token = await createInternalTokenSigner({ secret: internalTokenSecret }).sign(null);
    for (const [, query, variables] of GUESSES.filter(([, query]) => !query.includes('signUp'))) {
      const response = await fetch(stack.subgraphs.products.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: token },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      expect(text).toMatch(/errors/);
      if (production) expect(text).not.toMatch(/Did you mean/);
      else expect(text).toMatch(/Did you mean/);
    }
  });
});
