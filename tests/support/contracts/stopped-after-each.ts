import { afterEach } from "vitest";

/**
 * Wraps a function that starts a subscription (an event-log member, a queue consumer) so that
 * each one it started during a test is stopped after that test, in start order: a contract test
 * that fails half-way must not leave a consumer running into the next one. Call it inside a
 * describe block (it registers an afterEach there).
 */
export function stoppedAfterEach<
  Args extends unknown[],
  Started extends { stop(): Promise<unknown> },
>(
  start: (...args: Args) => Promise<Started>,
): (...args: Args) => Promise<Started> {
  const started: Started[] = [];
  afterEach(async () => {
    for (const subscription of started.splice(0)) await subscription.stop();
  });
  return async (...args) => {
    const subscription = await start(...args);
    started.push(subscription);
    return subscription;
  };
}
