/**
 * Readiness details (`consumerReadiness(...).details.consumers`) while RabbitMQ is down: the
 * notification worker paused on the one partition it was handling, analytics (which reads the same
 * events on its own and needs no RabbitMQ) running.
 */
export const WORKER_PAUSED_ON_RABBITMQ = [
  {
    role: "worker",
    group: "notifications",
    status: "paused",
    reason: "rabbitmq is disconnected",
    pausedPartitions: 1,
    restarts: 0,
  },
  {
    role: "analytics",
    group: "analytics",
    status: "running",
    pausedPartitions: 0,
    restarts: 0,
  },
] as const;
