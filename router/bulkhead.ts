import { InfrastructureError } from "../platform/errors.ts";

export interface Bulkhead {
  /**
   * Resolves with a release function once a slot is free. Rejects with a `BulkheadFullError` at
   * once when the wait queue is full, or when no slot frees up before `deadlineAt` (epoch ms).
   * Without `deadlineAt` the wait has no bound of its own (and no timer): the caller bounds it.
   */
  acquire(deadlineAt?: number): Promise<() => void>;
  readonly inFlight: number;
  readonly queued: number;
}

export class BulkheadFullError extends InfrastructureError {
  constructor(readonly reason: "queue full" | "wait timed out") {
    super(`bulkhead rejected the fetch: ${reason}`, { retriable: false });
    this.name = "BulkheadFullError";
  }
}

interface Waiter {
  resolve(release: () => void): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Caps in-flight fetches to one subgraph so a slow subgraph cannot hold every socket and every
 * pending request of the router: only its own fetches queue, and past the queue they fail fast.
 * Slots are handed to waiters first-in first-out.
 */
export function createBulkhead({
  maxConcurrent,
  maxQueue,
}: {
  maxConcurrent: number;
  maxQueue: number;
}): Bulkhead {
  let inFlight = 0;
  const queue: Waiter[] = [];
  // Release is idempotent per slot: a double release would silently raise the cap.
  const releaser = () => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = queue.shift();
      if (next) {
        clearTimeout(next.timer);
        next.resolve(releaser());
      } else {
        inFlight -= 1;
      }
    };
  };
  return {
    acquire(deadlineAt) {
      if (inFlight < maxConcurrent) {
        inFlight += 1;
        return Promise.resolve(releaser());
      }
      if (queue.length >= maxQueue)
        return Promise.reject(new BulkheadFullError("queue full"));
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          timer:
            deadlineAt === undefined
              ? undefined
              : setTimeout(
                  () => {
                    queue.splice(queue.indexOf(waiter), 1);
                    reject(new BulkheadFullError("wait timed out"));
                  },
                  Math.max(0, deadlineAt - Date.now()),
                ),
        };
        queue.push(waiter);
      });
    },
    get inFlight() {
      return inFlight;
    },
    get queued() {
      return queue.length;
    },
  };
}
