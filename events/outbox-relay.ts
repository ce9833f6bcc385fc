import { Gauge, type Registry } from "prom-client";
import type { Database } from "../platform/database.ts";
import type { Logger } from "../platform/logger.ts";
import { counterOfTotals } from "../platform/metrics.ts";
import type { PublishingSubgraph } from "../platform/services.ts";
import {
  failSpan,
  messageContext,
  SpanKind,
  spanHeaders,
  startSpan,
  traceIdOf,
} from "../platform/tracing.ts";
import { headersFor, type EventEnvelope } from "./envelope.ts";
import type { EventLog, OutgoingMessage } from "./event-log.ts";

/** A publishing subgraph's schema, whose `outbox` table the relay drains. */
export type OutboxSchema = PublishingSubgraph;

export interface OutboxRelayOptions {
  db: Database;
  schema: OutboxSchema;
  eventLog: EventLog;
  logger: Logger;
  /** Rows published per transaction. @default 100 */
  batchSize?: number;
  /** Prepended to each row's topic (tests and side-by-side environments use unique topics). @default '' */
  topicPrefix?: string;
  /** Fallback poll interval (NOTIFY wakes the relay at once); a full batch polls again at once. @default 200 */
  pollIntervalMs?: number;
}

export interface OutboxRelay {
  readonly schema: OutboxSchema;
  /** Rows this instance has published since it started. */
  readonly published: number;
  /** Why the last relay pass failed (database or event log), until a pass succeeds; undefined when healthy. */
  readonly problem: string | undefined;
  /** Publishes up to one batch; returns how many rows it published (0 when another relay holds the lock). */
  relayOnce(): Promise<number>;
  /** Unpublished rows and the age of the oldest one. */
  lag(): Promise<{ unpublished: number; oldestAgeSeconds: number }>;
  start(): void;
  stop(): Promise<void>;
}

interface OutboxRow {
  seq: number;
  topic: string;
  event_key: string;
  envelope: EventEnvelope | string;
}

/**
 * Publishes committed outbox rows to the event log in `seq` order and marks them published.
 *
 * Several relay instances per schema are safe: a transaction-scoped advisory lock lets one publish
 * at a time (the others find it taken and idle until the next tick). Row locks with SKIP LOCKED
 * alone would let two relays publish interleaved batches and reorder one user's events on their
 * partition, so the advisory lock is the ordering guarantee; the row lock only keeps a stray
 * writer off the batch. A crash between publish and commit republishes the batch: delivery is at
 * least once, and consumers dedupe by `eventId`.
 */
export function createOutboxRelay({
  db,
  schema,
  eventLog,
  logger,
  batchSize = 100,
  pollIntervalMs = 200,
  topicPrefix = "",
}: OutboxRelayOptions): OutboxRelay {
  const log = logger.child({ component: "outbox-relay", schema });
  let publishedTotal = 0;
  const lag = async () => {
    const [row] = await db.query<{
      unpublished: number | string;
      oldest: number | string | null;
    }>(
      `SELECT count(*) AS unpublished, EXTRACT(EPOCH FROM (now() - min(created_at))) AS oldest FROM ${schema}.outbox WHERE published_at IS NULL`,
    );
    return {
      unpublished: Number(row?.unpublished ?? 0),
      oldestAgeSeconds: Number(row?.oldest ?? 0),
    };
  };

  const relayOnce = () =>
    db.transaction(async (tx) => {
      const [lock] = await tx.query<{ locked: boolean }>(
        "SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked",
        [`outbox-relay:${schema}`],
      );
      if (!lock?.locked) return 0;
      const rows = await tx.query<OutboxRow>(
        `SELECT seq, topic, event_key, envelope FROM ${schema}.outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      );
      if (rows.length === 0) return 0;
      // Consecutive rows of the same topic go in one send; topics are published in seq order.
      let run: { topic: string; messages: OutgoingMessage[] } | undefined;
      const flush = async () => {
        if (run)
          await eventLog.publish(`${topicPrefix}${run.topic}`, run.messages);
        run = undefined;
      };
      // One producer span per event, child of the request that wrote it (the envelope's
      // traceparent); the message carries the span's own traceparent, so the consumer's span is
      // its child and one trace runs from the mutation to the delivery.
      const published: Array<{
        envelope: EventEnvelope;
        topic: string;
        span: ReturnType<typeof startSpan>;
      }> = [];
      try {
        for (const row of rows) {
          const envelope =
            typeof row.envelope === "string"
              ? (JSON.parse(row.envelope) as EventEnvelope)
              : row.envelope;
          const topic = `${topicPrefix}${row.topic}`;
          const span = startSpan(`publish ${topic}`, {
            kind: SpanKind.PRODUCER,
            parent: messageContext(
              envelope.traceparent ? { traceparent: envelope.traceparent } : {},
            ),
            attributes: {
              service: "relay",
              "messaging.system": eventLog.kind,
              "messaging.destination.name": topic,
              "messaging.message.id": envelope.eventId,
              "event.type": envelope.type,
              "correlation.id": envelope.correlationId,
            },
          });
          published.push({ envelope, topic, span });
          if (run && run.topic !== row.topic) await flush();
          run ??= { topic: row.topic, messages: [] };
          run.messages.push({
            key: row.event_key,
            value: JSON.stringify(envelope),
            headers: { ...headersFor(envelope), ...spanHeaders(span) },
          });
        }
        await flush();
        await tx.query(
          `UPDATE ${schema}.outbox SET published_at = now() WHERE seq = ANY($1::bigint[])`,
          [rows.map((row) => row.seq)],
        );
      } catch (error) {
        for (const { span } of published) failSpan(span, error);
        throw error;
      } finally {
        for (const { span } of published) span.end();
      }
      for (const { envelope, topic, span } of published) {
        log.info(
          {
            eventId: envelope.eventId,
            type: envelope.type,
            topic,
            correlationId: envelope.correlationId,
            traceId: traceIdOf(span),
          },
          "event published",
        );
      }
      publishedTotal += rows.length;
      log.debug(
        { count: rows.length, lastSeq: rows.at(-1)?.seq },
        "outbox rows published",
      );
      return rows.length;
    });

  // The loop: one pass drains while batches come back full (a backlog does not wait one interval
  // per batch). A NOTIFY from the outbox trigger (a committed event) starts a pass at once, or
  // another one right after the current pass when it arrives mid-pass, so a row committed while
  // a pass was reading is never left for the next poll. Polling every `pollIntervalMs` stays as
  // the fallback: a lost notification, a LISTEN connection down, a database without the trigger.
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> | undefined;
  let again = false;
  let problem: string | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  const schedule = (delayMs: number) => {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(kick, delayMs);
    timer.unref();
  };
  function kick() {
    if (stopped) return;
    if (pass) {
      again = true;
      return;
    }
    clearTimeout(timer);
    again = false;
    pass = (async () => {
      try {
        while ((await relayOnce()) === batchSize && !stopped);
        problem = undefined;
      } catch (error) {
        problem = (error as Error).message;
        again = false;
        log.error(
          { err: error },
          "outbox relay pass failed; retrying at the next poll",
        );
      }
    })().finally(() => {
      pass = undefined;
      if (again) kick();
      else schedule(pollIntervalMs);
    });
  }
  return {
    schema,
    relayOnce,
    lag,
    get published() {
      return publishedTotal;
    },
    get problem() {
      return problem;
    },
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(pollIntervalMs);
      db.listen(`outbox_${schema}`, kick).then(
        (stop) => {
          // Stopped while the LISTEN was being set up: undo it; the database may be closing already.
          if (stopped) return void stop().catch(() => undefined);
          unlisten = stop;
          // Rows committed before the LISTEN took effect sent their NOTIFY to nobody.
          kick();
        },
        (error: unknown) =>
          log.warn(
            { err: error },
            "cannot LISTEN for outbox notifications; polling only",
          ),
      );
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await unlisten?.().catch((error: unknown) =>
        log.warn(
          { err: error },
          "cannot stop listening for outbox notifications",
        ),
      );
      unlisten = undefined;
      await pass;
    },
  };
}

/** Lag gauges and a publish counter for the relays of one process, labelled by the emitting service and the schema. */
export function registerRelayMetrics(
  registry: Registry,
  relays: OutboxRelay[],
  { service }: { service: string },
): void {
  const collectEach = (
    pick: (relay: OutboxRelay) => Promise<number> | number,
  ) =>
    async function collect(this: Gauge<"schema" | "service">) {
      for (const relay of relays)
        this.set({ schema: relay.schema, service }, await pick(relay));
    };
  const labelNames = ["schema", "service"] as const;
  new Gauge({
    name: "outbox_unpublished_events",
    help: "Outbox rows not yet published (relay lag in events)",
    labelNames,
    registers: [registry],
    collect: collectEach(async (relay) => (await relay.lag()).unpublished),
  });
  new Gauge({
    name: "outbox_oldest_unpublished_age_seconds",
    help: "Age of the oldest unpublished outbox row (relay lag in time)",
    labelNames,
    registers: [registry],
    collect: collectEach(async (relay) => (await relay.lag()).oldestAgeSeconds),
  });
  counterOfTotals({
    name: "outbox_events_published_total",
    help: "Outbox rows published to the event log",
    labelNames,
    registry,
    totals: () =>
      relays.map(
        (relay) =>
          [{ schema: relay.schema, service }, relay.published] as const,
      ),
  });
}
