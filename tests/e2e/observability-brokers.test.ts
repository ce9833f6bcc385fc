import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createKafkaEventLog } from "../../events/kafka-event-log.ts";
import { deadLetterQueueOf, type RetryPolicy } from "../../events/job-queue.ts";
import { CHANNELS, queueFor } from "../../events/notification-job.ts";
import { createRabbitJobQueue } from "../../events/rabbit-job-queue.ts";
import {
  AMQP_URL,
  deleteQueues,
  KAFKA_BROKERS,
  unique,
} from "../support/brokers.ts";
import { scrape, valueOf } from "../support/observability.ts";
import { waitUntil } from "../support/stack.ts";
import { expectOneStory, observedStack } from "../support/observed-story.ts";
import { probePipelineServices } from "../support/pipeline-services.ts";
import { logSenders } from "../support/notifications.ts";

const { postgres, unavailable } = await probePipelineServices();
const retry: RetryPolicy = { delaysMs: [100], maxAttempts: 2 };

describe.skipIf(unavailable)(
  "one request, one story on Kafka, RabbitMQ and PostgreSQL",
  () => {
    const prefix = unique("obs");
    const observed = observedStack(
      postgres,
      async (logger) => ({
        routerEnv: { LOG_LEVEL: "info" },
        events: {
          eventLog: createKafkaEventLog({
            brokers: KAFKA_BROKERS,
            clientId: prefix,
            logger,
          }),
          jobQueue: await createRabbitJobQueue({
            url: AMQP_URL,
            logger,
            retry,
          }),
          senders: logSenders(logger),
          retry,
          topicPrefix: `${prefix}.`,
          queuePrefix: prefix,
          groupId: prefix,
          relayPollIntervalMs: 50,
        },
      }),
      {
        bootTimeoutMs: 90_000,
        cleanup: () =>
          deleteQueues(
            CHANNELS.flatMap((channel) => [
              queueFor(prefix, channel),
              deadLetterQueueOf(queueFor(prefix, channel)),
              ...retry.delaysMs.map(
                (delay) => `${queueFor(prefix, channel)}.retry.${delay}ms`,
              ),
            ]),
          ),
      },
    );

    it("every hop logs the request’s correlation id, and the trace crosses Kafka and RabbitMQ headers from the router span to the dispatcher span", async () => {
      const correlationId = `story-${randomUUID()}`;
      const { chain } = await expectOneStory(observed, correlationId, {
        timeoutMs: 60_000,
      });
      const systems = chain
        .map((span) => span.attributes["messaging.system"])
        .filter(Boolean);
      expect(new Set(systems)).toEqual(new Set(["kafka", "rabbitmq"]));

      // The broker-backed series are on the router's /metrics too: DLQ depth from RabbitMQ itself.
      const samples = await scrape(
        observed.stack.routerUrl.replace(/\/graphql$/, "/metrics"),
      );
      expect(
        valueOf(samples, "notification_dlq_depth", {
          queue: `${prefix}.email.dlq`,
        }),
      ).toBe(0);
      expect(
        valueOf(samples, "outbox_unpublished_events", { schema: "orders" }),
      ).toBe(0);
      // Consumer lag from Kafka's own offsets: the worker's group has committed everything it was sent.
      await waitUntil(
        "the worker group committed every event",
        async () =>
          valueOf(
            await scrape(
              observed.stack.routerUrl.replace(/\/graphql$/, "/metrics"),
            ),
            "event_consumer_lag",
          ) === 0,
      );
    });
  },
);
