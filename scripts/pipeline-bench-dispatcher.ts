/**
 * The dispatcher of `npm run bench:pipeline`, the same on both of its paths (the embedded one in
 * scripts/pipeline-bench.ts, the production one's dispatcher process in
 * scripts/pipeline-bench-role.ts), so the two measure the same delivery work.
 */
import {
  createDispatcher,
  type DispatcherOptions,
} from "../events/dispatcher.ts";
import type { ChannelSender } from "../events/channels.ts";
import { CHANNELS, type Channel } from "../events/notification-job.ts";
import { createStaticDirectory } from "../events/recipients.ts";

/** The recipients the events are spread over: one user's jobs are delivered one after another. */
export const benchUsers = (count: number) =>
  Array.from({ length: count }, (_, i) => `bench-user-${i}`);

/**
 * A dispatcher whose every channel sends nowhere but calls `onDelivered` with the event id and the
 * wall-clock time (ms since the epoch, sub-millisecond), and whose directory gives each of `users`
 * an address at example.test.
 */
export function createBenchDispatcher({
  users,
  onDelivered,
  ...options
}: Omit<DispatcherOptions, "senders" | "recipients"> & {
  users: string[];
  onDelivered: (eventId: string, at: number) => void;
}) {
  const sender: ChannelSender = {
    transport: "noop",
    send: async (job) =>
      onDelivered(job.eventId, performance.timeOrigin + performance.now()),
  };
  return createDispatcher({
    ...options,
    senders: Object.fromEntries(
      CHANNELS.map((channel) => [channel, sender]),
    ) as Record<Channel, ChannelSender>,
    recipients: createStaticDirectory(
      Object.fromEntries(
        users.map((user) => [user, { email: `${user}@example.test` }]),
      ),
    ),
  });
}
