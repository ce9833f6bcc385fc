import amqp, {
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type RecoveringChannelModel,
} from "amqplib";
import { InfrastructureError } from "../platform/errors.ts";
import type { Logger } from "../platform/logger.ts";
import type { Subscription } from "./event-log.ts";
import {
  deadLetterQueueOf,
  type JobQueueHealth,
  type MonitoredJobQueue,
  type ReceivedJob,
} from "./job-queue.ts";
import {
  decideRetry,
  DEFAULT_RETRY_POLICY,
  reasonOf,
  type RetryPolicy,
} from "./retry-policy.ts";

export interface RabbitJobQueueOptions {
  url: string;
  logger: Logger;
  retry?: RetryPolicy;
  /** A publish with no broker confirm after this long rejects (retriable). @default 5000 */
  confirmTimeoutMs?: number;
  /** Connection attempts at start-up before giving up (then it keeps reconnecting forever). @default 5 */
  initialConnectRetries?: number;
  /** First wait before reopening a channel the broker closed under a live connection; doubles up to 5 s. @default 200 */
  channelReopenDelayMs?: number;
}

/** Every queue is a durable quorum queue: replicated, and it survives a broker restart. */
const QUORUM = { "x-queue-type": "quorum" } as const;

/**
 * A work queue delivers to one consumer at a time; the others wait as hot standbys and take over
 * when it goes away (its unacked jobs come back first). Per-recipient order is kept by the
 * dispatcher's lanes inside one process; with two dispatchers consuming one queue side by side,
 * RabbitMQ would hand one customer's consecutive jobs to both and they could be delivered out of
 * order (the chaos soak saw it with no fault at all). Changing queue arguments is refused by the
 * broker (PRECONDITION_FAILED): queues declared before this must be deleted or moved by a policy.
 */
const SINGLE_ACTIVE_CONSUMER = { "x-single-active-consumer": true } as const;

/**
 * A retry tier hands an expired job back to its work queue by dead-lettering it. A quorum queue
 * dead-letters at most once by default: a job expiring while the target is unavailable (a broker
 * restart, a leader election) is dropped — the chaos soak lost one notification that way. The
 * at-least-once strategy keeps it until the target confirms; it requires `reject-publish` overflow.
 */
const AT_LEAST_ONCE_DEAD_LETTERING = {
  "x-dead-letter-strategy": "at-least-once",
  "x-overflow": "reject-publish",
} as const;

const retryQueueOf = (queue: string, delayMs: number) =>
  `${queue}.retry.${delayMs}ms`;
const isDeadLetterQueue = (queue: string) => queue.endsWith(".dlq");

function parseBody(content: Buffer): unknown {
  const text = content.toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function stringHeaders(
  headers: Record<string, unknown> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    if (value !== undefined && value !== null && !name.startsWith("x-death"))
      out[name] = String(value);
  return out;
}

const wait = (ms: number) =>
  new Promise<void>((done) => setTimeout(done, ms).unref());

/** A channel open that gets no answer (a broker half-way through a restart) must not hold a reopen for ever. */
const CHANNEL_OPEN_TIMEOUT_MS = 10_000;

/** Connect plus AMQP handshake, per attempt. */
const CONNECT_TIMEOUT_MS = 10_000;

function withinTime<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new InfrastructureError(
            `rabbitmq: no answer ${what} within ${ms} ms`,
            { retriable: true },
          ),
        ),
      ms,
    );
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * Closing waits for the broker's answer (cancel-ok, close-ok), which a broker that stopped
 * answering never sends, and amqplib leaves a channel close pending forever when the connection
 * drops under it: shutdown steps give up after this long instead of hanging the process.
 */
const CLOSE_STEP_MS = 3000;
const bounded = (step: Promise<unknown>) =>
  Promise.race([step.catch(() => undefined), wait(CLOSE_STEP_MS)]);

interface Consumer {
  queue: string;
  readonly attached: boolean;
  /** Opens a channel on a (re)connected model and starts consuming on it. */
  attach(model: ChannelModel): Promise<void>;
}

/**
 * The JobQueue on RabbitMQ (amqplib 2.x). Retry tiers are quorum queues with a message TTL whose
 * dead-letter target is the main queue: an expired job simply comes back. The attempt number
 * travels in the `x-attempt` header, because a quorum queue's delivery count resets when a job
 * moves between queues.
 *
 * Recovery, and what amqplib does not do for us: its opt-in `recovery` reconnects the connection
 * and calls `setup` after every (re)connect, but it recovers no channel, topology or consumer. So
 * `setup` re-declares lazily (the `declared` cache is cleared), reopens the publish channel and
 * re-attaches every consumer. A channel the broker closes while the connection stays up (a
 * channel-level error, a consumer timeout, an operator closing it) is not a disconnect at all for
 * amqplib: each channel watches its own `close` and reopens itself with backoff for as long as its
 * connection is the live one; a consumer the broker cancels (its queue deleted or moved) closes its
 * channel and comes back the same way.
 *
 * While the connection or the publish channel is down, `publish` rejects with a retriable error
 * (the worker then leaves its Kafka offset uncommitted and retries); a publish whose channel
 * closes before the confirm, or that is not confirmed within `confirmTimeoutMs`, rejects likewise.
 * Jobs that were in flight on a lost channel are redelivered by the broker.
 */
export async function createRabbitJobQueue({
  url,
  logger,
  retry = DEFAULT_RETRY_POLICY,
  confirmTimeoutMs = 5000,
  initialConnectRetries = 5,
  channelReopenDelayMs = 200,
}: RabbitJobQueueOptions): Promise<MonitoredJobQueue> {
  const log = logger.child({ component: "rabbitmq" });
  /** The live connection: set by `setup`, cleared on disconnect. Channel reopen loops stop when it changes. */
  let live: ChannelModel | undefined;
  let publisher: ConfirmChannel | undefined;
  let closing = false;
  let reconnects = 0;
  let connectedOnce = false;
  const declared = new Set<string>();
  const declaring = new Map<string, Promise<void>>();
  const consumers = new Set<Consumer>();
  const subscriptions = new Set<Subscription>();

  /** Reopens a channel of `on` with backoff while `on` is still the live connection. */
  const reopen = (
    what: string,
    on: ChannelModel,
    open: (on: ChannelModel) => Promise<void>,
  ) => {
    void (async () => {
      for (
        let delay = channelReopenDelayMs;
        !closing && live === on;
        delay = Math.min(delay * 2, 5000)
      ) {
        await wait(delay);
        if (closing || live !== on) return;
        try {
          await withinTime(
            open(on),
            CHANNEL_OPEN_TIMEOUT_MS,
            `opening the ${what} channel`,
          );
          reconnects += 1;
          log.info({ channel: what }, "rabbitmq channel reopened");
          return;
        } catch (error) {
          log.warn(
            { err: error, channel: what, retryInMs: delay },
            "cannot reopen rabbitmq channel yet",
          );
        }
      }
    })();
  };

  // Jobs the broker returned as unroutable (`mandatory`: their queue no longer exists), by channel.
  // A return arrives before the confirm of the same publish, so the confirm callback can tell.
  const returned = new WeakMap<ConfirmChannel, Set<string>>();
  const watchReturns = (channel: ConfirmChannel) => {
    const ids = new Set<string>();
    returned.set(channel, ids);
    channel.on("return", (message: ConsumeMessage) =>
      ids.add(String(message.properties.messageId)),
    );
  };

  const openPublisher = async (on: ChannelModel) => {
    const channel = await on.createConfirmChannel();
    watchReturns(channel);
    channel.on("error", (error: Error) =>
      log.error({ err: error }, "rabbitmq publish channel error"),
    );
    channel.on("close", () => {
      if (publisher !== channel) return;
      publisher = undefined;
      // Declarations made through this channel still stand on the broker; only a new connection
      // (a possibly restarted broker) clears the cache.
      if (!closing) reopen("publish", on, openPublisher);
    });
    publisher = channel;
  };

  let connection: RecoveringChannelModel;
  try {
    connection = await amqp.connect(url, {
      // noDelay: without it Nagle's algorithm and delayed ACKs stall small confirms ~40 ms each once
      // consumers share the connection (measured: 34 ms per confirmed publish, 1.5 ms with it on).
      noDelay: true,
      // Bounds the TCP connect *and* the AMQP handshake: a broker half-way through a restart can
      // accept the socket and never answer, and without a bound amqplib's recovery waits on that
      // attempt for ever (it schedules no other while one is in progress).
      timeout: CONNECT_TIMEOUT_MS,
      recovery: {
        initialDelay: 200,
        maxDelay: 5000,
        initialMaxRetries: initialConnectRetries,
        maxRetries: Infinity,
        async setup(model: ChannelModel) {
          live = model;
          // Queues may have been declared on a broker that lost them; declare again on first use.
          declared.clear();
          try {
            await openPublisher(model);
            for (const consumer of consumers) await consumer.attach(model);
          } catch (error) {
            // amqplib closes this model and tries a new one: until then nothing is live. Left set,
            // a publish would take the dead model for a live connection missing its channel.
            if (live === model) {
              live = undefined;
              publisher = undefined;
            }
            throw error;
          }
          // Counted here: the first connection's 'connect' event fires before anyone can listen.
          if (connectedOnce) reconnects += 1;
          connectedOnce = true;
        },
      },
    });
  } catch (error) {
    throw new InfrastructureError(
      `cannot connect to RabbitMQ at AMQP_URL: ${(error as Error).message}`,
      { retriable: true, cause: error },
    );
  }
  connection.on("error", (error: Error) =>
    log.error({ err: error }, "rabbitmq connection error"),
  );
  const lost = (error: Error) => {
    live = undefined;
    publisher = undefined;
    if (!closing)
      log.warn({ err: error }, "rabbitmq disconnected; reconnecting");
  };
  connection.on("disconnect", lost);
  // A setup that failed half way leaves channels on a connection amqplib has closed again.
  connection.on("connect-failed", lost);
  connection.on("connect", () =>
    log.info({ reconnects }, "rabbitmq connected"),
  );

  const sendConfirmed = (
    channel: ConfirmChannel,
    queue: string,
    content: Buffer,
    options: amqp.Options.Publish,
  ) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new InfrastructureError(
              `no publisher confirm for ${queue} within ${confirmTimeoutMs} ms`,
              { retriable: true },
            ),
          ),
        confirmTimeoutMs,
      );
      const id = String(options.messageId);
      try {
        // amqplib calls back with an error when the broker nacks or when the channel closes before
        // the confirm arrived: both reject, so an unconfirmed job is never reported as stored.
        channel.sendToQueue(
          queue,
          content,
          {
            persistent: true,
            mandatory: true,
            contentType: "application/json",
            ...options,
          },
          (error) => {
            clearTimeout(timer);
            if (error)
              return reject(
                new InfrastructureError(
                  `job for ${queue} not confirmed: ${(error as Error).message}`,
                  { retriable: true, cause: error },
                ),
              );
            if (returned.get(channel)?.delete(id)) {
              // Confirmed but routed nowhere (the queue was deleted): declare it again on the next publish.
              declared.delete(queue);
              return reject(
                new InfrastructureError(
                  `job for ${queue} was returned unroutable (queue missing)`,
                  { retriable: true },
                ),
              );
            }
            resolve();
          },
        );
      } catch (error) {
        clearTimeout(timer);
        reject(
          new InfrastructureError(
            `cannot publish to ${queue}: ${(error as Error).message}`,
            { retriable: true, cause: error },
          ),
        );
      }
    });

  // A publish that finds the connection up but no publish channel starts an open of its own (one at
  // a time, time-boxed): the reopen loop is the normal path, this one makes sure no interleaving of
  // a channel close with a reconnect can leave a live connection without a publisher for good
  // (seen once in the CI-sized chaos soak after a RabbitMQ restart: a worker paused for minutes on
  // "publish channel is closed").
  let openingPublisher: Promise<void> | undefined;
  const currentPublisher = () => {
    if (publisher) return publisher;
    const on = live;
    if (on && !closing && !openingPublisher) {
      openingPublisher = withinTime(
        openPublisher(on),
        CHANNEL_OPEN_TIMEOUT_MS,
        "opening the publish channel",
      )
        .then(() =>
          log.info(
            { channel: "publish" },
            "rabbitmq publish channel opened on demand",
          ),
        )
        .catch((error: unknown) =>
          log.warn(
            { err: error },
            "cannot open a rabbitmq publish channel yet",
          ),
        )
        .finally(() => (openingPublisher = undefined));
    }
    throw new InfrastructureError(
      on ? "rabbitmq publish channel is closed" : "rabbitmq is disconnected",
      { retriable: true },
    );
  };

  const declareOn = async (channel: amqp.Channel, queue: string) => {
    await channel.assertQueue(queue, {
      durable: true,
      arguments: { ...QUORUM, ...SINGLE_ACTIVE_CONSUMER },
    });
    await channel.assertQueue(deadLetterQueueOf(queue), {
      durable: true,
      arguments: QUORUM,
    });
    for (const delay of new Set(retry.delaysMs)) {
      await channel.assertQueue(retryQueueOf(queue, delay), {
        durable: true,
        arguments: {
          ...QUORUM,
          ...AT_LEAST_ONCE_DEAD_LETTERING,
          "x-message-ttl": delay,
          "x-dead-letter-exchange": "",
          "x-dead-letter-routing-key": queue,
        },
      });
    }
  };

  const declare = (queue: string): Promise<void> => {
    if (declared.has(queue)) return Promise.resolve();
    let pending = declaring.get(queue);
    if (!pending) {
      pending = (async () => {
        try {
          await declareOn(currentPublisher(), queue);
          declared.add(queue);
        } catch (error) {
          throw error instanceof InfrastructureError
            ? error
            : new InfrastructureError(
                `cannot declare ${queue}: ${(error as Error).message}`,
                { retriable: true, cause: error },
              );
        } finally {
          declaring.delete(queue);
        }
      })();
      declaring.set(queue, pending);
    }
    return pending;
  };

  // Call-order publishing (the JobQueue contract): a publish to a declared queue writes its frame
  // synchronously, inside the call. One that must wait for a declaration queues behind `gate`, and
  // while any publish waits there every later one queues too, so none overtakes it. Nothing else
  // is awaited per message: a pipelined batch costs one confirm round trip, not one per job.
  let waiting = 0;
  let gate: Promise<void> = Promise.resolve();
  const publish = (
    queue: string,
    content: Buffer,
    options: amqp.Options.Publish,
  ): Promise<void> => {
    if (waiting === 0 && (isDeadLetterQueue(queue) || declared.has(queue))) {
      try {
        return sendConfirmed(currentPublisher(), queue, content, options);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    waiting += 1;
    const issued = (async () => {
      try {
        await gate;
        if (!isDeadLetterQueue(queue)) await declare(queue);
        // Wrapped so the confirm is not awaited here: the next queued publish goes out right after.
        return {
          confirmed: sendConfirmed(currentPublisher(), queue, content, options),
        };
      } finally {
        waiting -= 1;
      }
    })();
    gate = issued.then(
      () => undefined,
      () => undefined,
    );
    return issued.then(({ confirmed }) => confirmed);
  };

  return {
    kind: "rabbitmq",
    declare,
    publish: (queue, job) =>
      publish(queue, Buffer.from(JSON.stringify(job.payload)), {
        messageId: job.id,
        headers: { ...job.headers, "x-attempt": 1 },
      }),
    async consume(
      queue,
      handle: (job: ReceivedJob) => Promise<void>,
      { prefetch = 10 } = {},
    ) {
      const isMain = !isDeadLetterQueue(queue);
      if (isMain) await declare(queue);
      let inFlight = 0;
      let stopping = false;
      /** The channel this consumer uses now (set as soon as it is open), and its consumer once attached. */
      let channelNow: ConfirmChannel | undefined;
      let current: { channel: ConfirmChannel; consumerTag: string } | undefined;
      const idle = new Set<() => void>();

      const settle = (action: () => void) => {
        // After a lost channel the broker has already requeued what it held: nothing to settle.
        try {
          action();
        } catch (error) {
          log.warn(
            { err: error, queue },
            "cannot settle a job on a closed channel; the broker redelivers it",
          );
        }
      };

      const onMessage = async (
        channel: ConfirmChannel,
        message: ConsumeMessage,
      ) => {
        const headers = stringHeaders(message.properties.headers);
        const attempt = Number(headers["x-attempt"] ?? 1) || 1;
        const id = String(message.properties.messageId ?? "");
        try {
          await handle({
            id,
            queue,
            attempt,
            payload: parseBody(message.content),
            headers,
          });
          settle(() => channel.ack(message));
        } catch (error) {
          if (!isMain || stopping) {
            // A DLQ consumer's failure, or one during stop(): back to the queue, nothing counted.
            settle(() => channel.nack(message, false, true));
            return;
          }
          const decision = decideRetry(retry, attempt, error);
          let target: string;
          let nextHeaders: Record<string, string | number>;
          switch (decision.action) {
            case "dead-letter":
              target = deadLetterQueueOf(queue);
              nextHeaders = {
                ...headers,
                "x-attempt": attempt,
                "x-last-error": reasonOf(error),
                "x-dead-letter-reason": decision.reason,
              };
              log.warn(
                {
                  err: error,
                  queue,
                  jobId: id,
                  attempt,
                  reason: decision.reason,
                },
                "job dead-lettered",
              );
              break;
            case "retry":
              target = retryQueueOf(queue, decision.afterMs);
              nextHeaders = { ...headers, "x-attempt": attempt + 1 };
              log.info(
                { queue, jobId: id, attempt, delay: decision.afterMs },
                "job failed; retrying later",
              );
              break;
            default:
              return decision satisfies never;
          }
          try {
            // The copy must be confirmed before the original is acked, or a crash in between loses the job.
            await sendConfirmed(channel, target, message.content, {
              messageId: id,
              headers: nextHeaders,
              contentType: message.properties.contentType as string | undefined,
            });
            settle(() => channel.ack(message));
          } catch (publishError) {
            log.error(
              { err: publishError, queue, jobId: id },
              "cannot move failed job; requeueing it",
            );
            settle(() => channel.nack(message, false, true));
          }
        }
      };

      const consumer: Consumer = {
        queue,
        get attached() {
          return current !== undefined;
        },
        async attach(on) {
          if (stopping) return;
          const channel = await on.createConfirmChannel();
          watchReturns(channel);
          channelNow = channel;
          channel.on("error", (error: Error) =>
            log.error({ err: error, queue }, "rabbitmq consumer channel error"),
          );
          channel.on("close", () => {
            if (channelNow !== channel) return;
            channelNow = undefined;
            current = undefined;
            if (!stopping && !closing)
              reopen(`consume ${queue}`, on, consumer.attach);
          });
          try {
            if (isMain) await declareOn(channel, queue);
            await channel.prefetch(prefetch);
            const { consumerTag } = await channel.consume(queue, (message) => {
              if (!message) {
                // The broker cancelled this consumer (queue deleted or moved): closing the channel
                // brings it back through the reopen path, which declares the queue again.
                log.warn(
                  { queue },
                  "rabbitmq cancelled the consumer; re-attaching",
                );
                void channel.close().catch(() => undefined);
                return;
              }
              inFlight += 1;
              void onMessage(channel, message)
                .catch((error: unknown) =>
                  log.error({ err: error, queue }, "job settlement failed"),
                )
                .finally(() => {
                  inFlight -= 1;
                  if (inFlight === 0) for (const done of [...idle]) done();
                });
            });
            current = { channel, consumerTag };
            if (stopping) await channel.close().catch(() => undefined);
          } catch (error) {
            // The caller (setup or the reopen loop) retries: this channel's close must not start another loop.
            if (channelNow === channel) channelNow = undefined;
            await channel.close().catch(() => undefined);
            throw error;
          }
        },
      };
      consumers.add(consumer);
      if (live) {
        try {
          await consumer.attach(live);
        } catch (error) {
          consumers.delete(consumer);
          throw new InfrastructureError(
            `cannot consume ${queue}: ${(error as Error).message}`,
            { retriable: true, cause: error },
          );
        }
      }
      // Not live right now: the next successful reconnect attaches it (health() says detached meanwhile).
      const subscription: Subscription = {
        async stop() {
          if (!subscriptions.delete(subscription)) return;
          stopping = true;
          consumers.delete(consumer);
          const active = current;
          if (active) await bounded(active.channel.cancel(active.consumerTag));
          if (inFlight > 0) await new Promise<void>((done) => idle.add(done));
          current = undefined;
          if (active) await bounded(active.channel.close());
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },
    async depth(queue) {
      // checkQueue on a queue that does not exist closes the channel: only ask about declared ones.
      if (!declared.has(queue) && !declared.has(queue.replace(/\.dlq$/, "")))
        return 0;
      return (await currentPublisher().checkQueue(queue)).messageCount;
    },
    health(): JobQueueHealth {
      const list = [...consumers].map((consumer) => ({
        queue: consumer.queue,
        attached: consumer.attached,
      }));
      return {
        connected: live !== undefined,
        publishChannelOpen: publisher !== undefined,
        channelsOpen:
          (publisher ? 1 : 0) +
          list.filter((consumer) => consumer.attached).length,
        consumers: list,
        reconnects,
      };
    },
    async close() {
      await Promise.all(
        [...subscriptions].map((subscription) => subscription.stop()),
      );
      closing = true;
      // Closing the connection closes its channels; a connection that does not answer in time is
      // dropped at the socket.
      const model = live;
      await bounded(connection.close());
      (
        model as unknown as
          { connection?: { stream?: { destroy(): void } } } | undefined
      )?.connection?.stream?.destroy();
    },
  };
}
