/**
 * The error `run` throws, checked to be a `kind`: a test then asserts on its fields
 * (`code`, `message`, `extensions`). Any other error is rethrown as it is, and a `run` that
 * returns fails the test with `expected` as its message.
 */
export function thrownBy<E extends Error>(
  kind: abstract new (...args: never[]) => E,
  run: () => unknown,
  expected = `expected a ${kind.name}`,
): E {
  try {
    run();
  } catch (error) {
    if (error instanceof kind) return error;
    throw error;
  }
  throw new Error(expected);
}
