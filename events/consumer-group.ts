import type {
  EventLog,
  LogMessage,
  LogSubscription,
  MessageBatch,
  SubscriptionState,
} from "./event-log.ts";

/** What every event-log consumer role (notification worker, analytics) answers to its runner. */
export interface ConsumerGroupRole {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly groupId: string;
  /** The consumer's state (`stopped` before start and after stop): `/ready` and metrics read it. */
  state(): SubscriptionState;
}

/**
 * The subscription of one consumer group, from the beginning of its topics: `start` runs `prepare`
 * (what must exist before the first message, e.g. the queues it publishes to), makes sure every
 * topic exists, subscribes, then calls `started` (the role logs it); starting twice is a no-op.
 * `stop` resolves once the handler in progress has finished.
 */
export function consumerGroup(
  eventLog: EventLog,
  {
    groupId,
    topics,
    ...handler
  }: { groupId: string; topics: readonly string[] } & (
    | { handleBatch: (batch: MessageBatch) => Promise<void> }
    | { handle: (message: LogMessage) => Promise<void> }
  ),
  {
    prepare,
    started,
  }: { prepare?: () => Promise<void>; started?: () => void } = {},
): ConsumerGroupRole {
  let subscription: LogSubscription | undefined;
  return {
    groupId,
    state: () =>
      subscription?.state() ?? {
        status: "stopped",
        pausedPartitions: [],
        restarts: 0,
      },
    async start() {
      if (subscription) return;
      await prepare?.();
      for (const topic of topics) await eventLog.ensureTopic(topic);
      subscription = await eventLog.subscribe({
        groupId,
        topics: [...topics],
        fromBeginning: true,
        ...handler,
      });
      started?.();
    },
    async stop() {
      await subscription?.stop();
      subscription = undefined;
    },
  };
}
