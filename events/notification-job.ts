/** The three delivery channels; each has its own job queue (`<prefix>.<channel>`). */
export const CHANNELS = ["email", "sms", "push"] as const;
export type Channel = (typeof CHANNELS)[number];

/** What the worker puts on a channel queue and a dispatcher delivers. */
export interface NotificationJob {
  /** `<eventId>:<channel>`: the same event never yields two deliveries on one channel. */
  notificationId: string;
  channel: Channel;
  userId: string;
  eventId: string;
  eventType: string;
  correlationId: string;
  traceparent: string | null;
  subject: string;
  body: string;
}

export class InvalidJobError extends Error {
  readonly retriable = false;
  constructor(problem: string) {
    super(`invalid notification job: ${problem}`);
    this.name = "InvalidJobError";
  }
}

export const queueFor = (prefix: string, channel: Channel) =>
  `${prefix}.${channel}`;

/** Validates a job taken off a queue; throws InvalidJobError naming the first bad field. */
export function parseNotificationJob(payload: unknown): NotificationJob {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload))
    throw new InvalidJobError("not an object");
  const job = payload as Record<string, unknown>;
  for (const field of [
    "notificationId",
    "userId",
    "eventId",
    "eventType",
    "correlationId",
    "subject",
    "body",
  ] as const) {
    if (typeof job[field] !== "string" || (job[field] as string).length === 0)
      throw new InvalidJobError(`field ${field}`);
  }
  if (!(CHANNELS as readonly unknown[]).includes(job.channel))
    throw new InvalidJobError("field channel");
  if (job.traceparent !== null && typeof job.traceparent !== "string")
    throw new InvalidJobError("field traceparent");
  return job as unknown as NotificationJob;
}
