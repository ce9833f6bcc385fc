import nodemailer from "nodemailer";
import { InfrastructureError } from "../platform/errors.ts";
import type { Logger } from "../platform/logger.ts";
import type { NotificationJob } from "./notification-job.ts";

/** Where one channel's messages go. `transport` names the adapter in the delivery record. */
export interface ChannelSender {
  readonly transport: string;
  send(job: NotificationJob, recipient: Recipient): Promise<void>;
  close?(): Promise<void>;
}

export interface Recipient {
  email?: string | undefined;
  phone?: string | undefined;
}

export class UndeliverableError extends Error {
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = "UndeliverableError";
  }
}

/**
 * The downstream itself is unreachable or refusing service (SMTP server down, webhook gateway
 * answering 503/429, users subgraph unreachable), as opposed to this one message failing: every
 * job would fail alike, so the dispatcher holds its jobs and retries with backoff instead of
 * walking them through the retry tiers into the DLQ.
 */
export class DownstreamUnavailableError extends InfrastructureError {
  readonly downstream: string;
  constructor(downstream: string, message: string, cause?: unknown) {
    super(message, { retriable: true, cause });
    this.name = "DownstreamUnavailableError";
    this.downstream = downstream;
  }
}

/** nodemailer's codes for "no usable SMTP connection", and SMTP 421 (service not available). */
const SMTP_OUTAGE_CODES = new Set([
  "ECONNECTION",
  "ETIMEDOUT",
  "ESOCKET",
  "EDNS",
  "ECONNREFUSED",
  "ECONNRESET",
]);

/** Email over SMTP (nodemailer), e.g. `smtp://127.0.0.1:1025` for Mailpit. */
export function createSmtpEmailSender({
  smtpUrl,
  from,
  timeoutMs = 10_000,
}: {
  smtpUrl: string;
  from: string;
  timeoutMs?: number;
}): ChannelSender {
  const url = new URL(smtpUrl);
  const secure = url.protocol === "smtps:";
  const transporter = nodemailer.createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(url.username
      ? {
          auth: {
            user: decodeURIComponent(url.username),
            pass: decodeURIComponent(url.password),
          },
        }
      : {}),
    // A local relay without TLS (Mailpit, a test sink) must not be forced into STARTTLS.
    ignoreTLS:
      url.searchParams.get("ignoreTLS") === "true" ||
      url.hostname === "127.0.0.1" ||
      url.hostname === "localhost",
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return {
    transport: "smtp",
    async send(job, recipient) {
      if (!recipient.email)
        throw new UndeliverableError(`user ${job.userId} has no email address`);
      try {
        await transporter.sendMail({
          from,
          to: recipient.email,
          subject: job.subject,
          text: job.body,
          headers: {
            "X-Correlation-Id": job.correlationId,
            "X-Notification-Id": job.notificationId,
          },
        });
      } catch (error) {
        const { code, responseCode } = error as {
          code?: string;
          responseCode?: number;
        };
        if ((code && SMTP_OUTAGE_CODES.has(code)) || responseCode === 421)
          throw new DownstreamUnavailableError(
            "smtp",
            `smtp unavailable: ${(error as Error).message}`,
            error,
          );
        throw new InfrastructureError(
          `smtp delivery failed: ${(error as Error).message}`,
          { retriable: true, cause: error },
        );
      }
    },
    async close() {
      transporter.close();
    },
  };
}

/** SMS or push through an HTTP webhook (the provider's gateway): POST JSON, 2xx means accepted. */
export function createWebhookSender({
  url,
  channel,
  timeoutMs = 5000,
}: {
  url: string;
  channel: "sms" | "push";
  timeoutMs?: number;
}): ChannelSender {
  return {
    transport: "webhook",
    async send(job, recipient) {
      if (channel === "sms" && !recipient.phone)
        throw new UndeliverableError(`user ${job.userId} has no phone number`);
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "idempotency-key": job.notificationId,
            "x-correlation-id": job.correlationId,
          },
          body: JSON.stringify({
            notificationId: job.notificationId,
            channel,
            to: channel === "sms" ? recipient.phone : job.userId,
            subject: job.subject,
            body: job.body,
          }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new DownstreamUnavailableError(
          `${channel}-webhook`,
          `${channel} webhook unreachable: ${(error as Error).message}`,
          error,
        );
      }
      if (response.status === 503 || response.status === 429)
        throw new DownstreamUnavailableError(
          `${channel}-webhook`,
          `${channel} webhook answered ${response.status}`,
        );
      if (!response.ok)
        throw new InfrastructureError(
          `${channel} webhook answered ${response.status}`,
          { retriable: response.status >= 500 || response.status === 429 },
        );
    },
  };
}

/**
 * The embedded default for a channel with no transport configured: the message goes to the log
 * (a developer reads it there) and counts as delivered, so `npm start` shows the whole flow.
 */
export function createLogSender({
  logger,
  channel,
}: {
  logger: Logger;
  channel: string;
}): ChannelSender {
  return {
    transport: "log",
    async send(job, recipient) {
      logger.info(
        {
          channel,
          notificationId: job.notificationId,
          userId: job.userId,
          to: channel === "email" ? recipient.email : recipient.phone,
          subject: job.subject,
          correlationId: job.correlationId,
        },
        "notification delivered to log",
      );
    },
  };
}
