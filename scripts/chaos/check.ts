/**
 * The chaos soak's checker: a pure function from what the run observed to a table of checks, so
 * the rules are tested without brokers (tests/unit/scripts/chaos/check.test.ts).
 */

export interface ConfirmedOrder {
  /** The x-request-id the order was placed with: its events, jobs and email carry it. */
  correlationId: string;
  userId: string;
  /** Position among this customer's confirmed orders (each customer places one order at a time). */
  seq: number;
}

export interface Observed {
  confirmed: readonly ConfirmedOrder[];
  /** Orders the router did not confirm (declined, failed): expected to send no confirmation. */
  notConfirmed: number;
  /** X-Correlation-Id of every email the SMTP sink received for an order confirmation. */
  mails: readonly string[];
  /** DELIVERED confirmation records, in delivery order (delivered_at, then notification id). */
  deliveries: ReadonlyArray<{ correlationId: string; userId: string }>;
  outboxUnpublished: number;
  consumerLag: number;
  /** Messages in the main queues and retry tiers. */
  queued: number;
  /** Message ids in the dead-letter queues. */
  deadLettered: readonly string[];
  injectedPoisonJobs: readonly string[];
  /** Poison ids found among the worker's rejected events. */
  rejectedPoison: readonly string[];
  injectedPoisonEvents: readonly string[];
  /** Pipeline instances (relays, workers, dispatchers, analytics) whose `/ready` did not answer 200, with the reason. */
  unready: readonly string[];
}

export interface Check {
  check: string;
  expected: string;
  actual: string;
  ok: boolean;
  /** A failure that time can still fix (something not delivered or drained yet): the run waits on these before it judges. */
  draining: boolean;
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length &&
  [...a].sort().every((value, index) => value === [...b].sort()[index]);
const list = (values: readonly string[]) =>
  values.length === 0
    ? "none"
    : values.length > 4
      ? `${values.length}: ${values.slice(0, 4).join(", ")}, …`
      : values.join(", ");

export function checkRun(observed: Observed): Check[] {
  const mailCount = new Map<string, number>();
  for (const id of observed.mails)
    mailCount.set(id, (mailCount.get(id) ?? 0) + 1);
  const confirmedIds = new Set(
    observed.confirmed.map((order) => order.correlationId),
  );
  const lost = observed.confirmed.filter(
    (order) => !mailCount.has(order.correlationId),
  );
  const duplicates = [...mailCount.entries()]
    .filter(([id, count]) => confirmedIds.has(id) && count > 1)
    .reduce((sum, [, count]) => sum + count - 1, 0);
  const strays = [...mailCount.keys()].filter((id) => !confirmedIds.has(id));
  const exactlyOnce = observed.confirmed.filter(
    (order) => mailCount.get(order.correlationId) === 1,
  ).length;

  const seqOf = new Map(
    observed.confirmed.map((order) => [order.correlationId, order]),
  );
  const delivered = observed.deliveries.filter((row) =>
    confirmedIds.has(row.correlationId),
  );
  const deliveredIds = new Set(delivered.map((row) => row.correlationId));
  // Per customer, the delivery records must list their orders in the order they were placed.
  const lastSeq = new Map<string, number>();
  const outOfOrder = new Map<string, string>();
  for (const row of delivered) {
    const order = seqOf.get(row.correlationId)!;
    const before = lastSeq.get(order.userId) ?? -1;
    if (before > order.seq && !outOfOrder.has(order.userId))
      outOfOrder.set(
        order.userId,
        `${order.userId}: order #${order.seq + 1} after #${before + 1}`,
      );
    lastSeq.set(
      order.userId,
      Math.max(lastSeq.get(order.userId) ?? -1, order.seq),
    );
  }
  const n = observed.confirmed.length;
  const row = (
    check: string,
    expected: string,
    actual: string,
    ok: boolean,
    draining = false,
  ): Check => ({ check, expected, actual, ok, draining: draining && !ok });
  return [
    row("orders confirmed through the router", "> 0", String(n), n > 0),
    row(
      "orders not confirmed (no email expected)",
      "any",
      String(observed.notConfirmed),
      true,
    ),
    row(
      "confirmed orders emailed exactly once (SMTP sink)",
      String(n),
      String(exactlyOnce),
      exactlyOnce === n,
    ),
    row(
      "lost (confirmed, never emailed)",
      "0",
      String(lost.length),
      lost.length === 0,
      true,
    ),
    row(
      "user-visible duplicates (extra emails)",
      "0",
      String(duplicates),
      duplicates === 0,
    ),
    row(
      "emails for no confirmed order",
      "0",
      list(strays),
      strays.length === 0,
    ),
    row(
      "DELIVERED records for confirmed orders",
      String(n),
      String(deliveredIds.size),
      deliveredIds.size === n && delivered.length === n,
      true,
    ),
    row(
      "customers whose records are out of order",
      "0",
      outOfOrder.size === 0
        ? "0"
        : `${outOfOrder.size} (${[...outOfOrder.values()].slice(0, 2).join("; ")})`,
      outOfOrder.size === 0,
    ),
    row(
      "outbox rows unpublished",
      "0",
      String(observed.outboxUnpublished),
      observed.outboxUnpublished === 0,
      true,
    ),
    row(
      "worker consumer lag",
      "0",
      String(observed.consumerLag),
      observed.consumerLag === 0,
      true,
    ),
    row(
      "jobs left in queues and retry tiers",
      "0",
      String(observed.queued),
      observed.queued === 0,
      true,
    ),
    row(
      "DLQ = the injected poison jobs",
      list(observed.injectedPoisonJobs),
      list(observed.deadLettered),
      sameSet(observed.deadLettered, observed.injectedPoisonJobs),
      true,
    ),
    row(
      "pipeline instances not ready (/ready)",
      "none",
      list(observed.unready),
      observed.unready.length === 0,
      true,
    ),
    row(
      "rejected events = the injected poison events",
      list(observed.injectedPoisonEvents),
      list(observed.rejectedPoison),
      sameSet(observed.rejectedPoison, observed.injectedPoisonEvents),
      true,
    ),
  ];
}

/** The checks as a fixed-width table, one line per check, failures marked. */
export function formatTable(checks: readonly Check[]): string {
  const headers = ["check", "expected", "actual", "result"];
  const rows = checks.map((check) => [
    check.check,
    check.expected,
    check.actual,
    check.ok ? "ok" : "FAIL",
  ]);
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((cells) => cells[column]!.length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(" | ")} |`;
  return [
    line(headers),
    `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}
