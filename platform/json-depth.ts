/**
 * The deepest nesting of arrays and objects accepted in a request's JSON (`variables`, `extensions`,
 * the body itself). JSON.parse copes with any depth, but every recursive walk after it does not:
 * JSON.stringify (request keys for deduplication), graphql's coercion, loggers. A body of 1 MB can
 * nest about 500,000 levels, which overflows the stack (a RangeError, answered as a 500) in all of
 * them. The public API's deepest legitimate input (`placeOrder`'s variables) nests 4 levels; 32
 * leaves room for any client wrapper without letting recursion near the stack's limit.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether `value` nests arrays and objects more than `max` levels deep (`{}` and `[]` are depth 1,
 * scalars 0). Iterative, so it is safe on exactly the values it exists to refuse, and it stops at the
 * first container past the limit.
 */
export function exceedsJsonDepth(
  value: unknown,
  max: number = MAX_JSON_DEPTH,
): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (typeof current !== "object" || current === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(current)
      ? current
      : Object.values(current)) {
      if (typeof child === "object" && child !== null)
        stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}
