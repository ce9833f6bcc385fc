/**
 * The chaos soak's fault schedule: a pure function of the seed and the run's size, so a seed
 * printed by one run replays the same faults at the same points of another.
 */

export const FAULT_KINDS = [
  "kill-relay",
  "kill-worker",
  "kill-dispatcher",
  "restart-kafka",
  "restart-rabbitmq",
] as const;
export const POISON_KINDS = ["poison-event", "poison-job"] as const;
export type StepKind =
  (typeof FAULT_KINDS)[number] | (typeof POISON_KINDS)[number];

export interface Step {
  /** The step runs once this many orders have been placed. */
  atOrder: number;
  kind: StepKind;
  /** Which instance a kill hits (0 or 1: two of each role run). */
  instance: number;
  /** How long the killed process or the broker stays down before it is started again (ms). */
  downMs: number;
}

export interface ScheduleOptions {
  seed: number;
  orders: number;
  /** Kills and broker restarts; at least one of each kind when ≥ 5. */
  faults: number;
  poisonEvents: number;
  poisonJobs: number;
}

/** mulberry32: a small seeded PRNG, the same sequence on every platform. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Down time per kind: a killed process comes back after 0.5–6 s; a broker stays down 3–15 s (past the 10 s Kafka session timeout at the top). */
const DOWN_MS: Record<StepKind, [number, number]> = {
  "kill-relay": [500, 6000],
  "kill-worker": [500, 6000],
  "kill-dispatcher": [500, 6000],
  "restart-kafka": [3000, 15_000],
  "restart-rabbitmq": [3000, 15_000],
  "poison-event": [0, 0],
  "poison-job": [0, 0],
};

export function chaosSchedule({
  seed,
  orders,
  faults,
  poisonEvents,
  poisonJobs,
}: ScheduleOptions): Step[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) =>
    items[Math.floor(random() * items.length)]!;
  const kinds: StepKind[] = [];
  // Every kind once first (in a seeded order), then seeded picks: a short run still hits each role.
  const each = [...FAULT_KINDS];
  for (let i = each.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [each[i], each[j]] = [each[j]!, each[i]!];
  }
  kinds.push(...each.slice(0, Math.min(faults, each.length)));
  while (kinds.length < faults) kinds.push(pick(FAULT_KINDS));
  for (let n = 0; n < poisonEvents; n += 1) kinds.push("poison-event");
  for (let n = 0; n < poisonJobs; n += 1) kinds.push("poison-job");
  // Faults land between 5 % and 85 % of the orders: events flow before the first and after the last.
  const steps = kinds.map((kind) => {
    const [low, high] = DOWN_MS[kind];
    return {
      atOrder: Math.floor(orders * (0.05 + 0.8 * random())),
      kind,
      instance: random() < 0.5 ? 0 : 1,
      downMs: Math.round(low + (high - low) * random()),
    };
  });
  return steps.sort((a, b) => a.atOrder - b.atOrder);
}
