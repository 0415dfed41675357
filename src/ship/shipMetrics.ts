/**
 * Prometheus metrics of `mirror ship`, in a registry of their own that the command
 * creates. Labels are fixed lists (outcome, cause): never a request id or a body.
 */
import { Counter, Gauge, Histogram, Registry } from './promClientParts.js';
import { shipCauses, type ShipCause } from '../wire/shipAck.js';
import type { ShipOutcome } from './ackRecord.js';

const outcomes: readonly ShipOutcome[] = ['delivered', 'rejected', 'gave-up', 'not-captured'];

export class ShipMetrics {
  readonly registry = new Registry();
  private readonly sent = new Counter({ name: 'mirror_ship_sent_total', help: 'Callbacks with a final answer, by outcome', labelNames: ['outcome'], registers: [this.registry] });
  private readonly retried = new Counter({ name: 'mirror_ship_retries_total', help: 'Attempts retried, by the cause of the attempt that failed', labelNames: ['cause'], registers: [this.registry] });
  private readonly failed = new Counter({
    name: 'mirror_ship_failed_total',
    help: 'Callbacks not delivered (rejected, gave up, body not captured), by cause',
    labelNames: ['cause'],
    registers: [this.registry],
  });
  private readonly attempts = new Counter({ name: 'mirror_ship_attempts_total', help: 'HTTP attempts made', registers: [this.registry] });
  private readonly lag = new Histogram({
    name: 'mirror_ship_lag_seconds',
    help: 'From nginx receiving a callback to its final answer from API Gateway',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    registers: [this.registry],
  });
  private readonly oldest = new Gauge({ name: 'mirror_ship_oldest_in_flight_seconds', help: 'Age of the oldest callback still waiting for its answer', registers: [this.registry] });
  private readonly backlog = new Gauge({ name: 'mirror_ship_backlog_bytes', help: 'Parity-log bytes not yet shipped (after the checkpoint)', registers: [this.registry] });
  private readonly checkpointAge = new Gauge({ name: 'mirror_ship_checkpoint_age_seconds', help: 'Time since the checkpoint was last written', registers: [this.registry] });
  private readonly inFlight = new Gauge({ name: 'mirror_ship_in_flight', help: 'Callbacks sent or waiting to be retried', registers: [this.registry] });
  private readonly sendLimit = new Gauge({
    name: 'mirror_ship_send_limit',
    help: 'Attempts allowed on the wire at once: ship.window while API Gateway answers, halved on 429/5xx, 1 while it is unreachable',
    registers: [this.registry],
  });

  constructor() {
    // Every label value exported from the start, so rate() sees the first event.
    for (const outcome of outcomes) this.sent.inc({ outcome }, 0);
    for (const cause of shipCauses) {
      if (cause === 'ok') continue;
      this.retried.inc({ cause }, 0);
      this.failed.inc({ cause }, 0);
    }
  }

  attempt(): void {
    this.attempts.inc();
  }
  retry(cause: ShipCause): void {
    this.retried.inc({ cause });
  }
  final(outcome: ShipOutcome, cause: ShipCause, lagSeconds: number | undefined): void {
    this.sent.inc({ outcome });
    if (outcome !== 'delivered') this.failed.inc({ cause });
    if (lagSeconds !== undefined) this.lag.observe(lagSeconds);
  }
  update(values: { oldestInFlightSeconds: number; backlogBytes: number; checkpointAgeSeconds: number; inFlight: number; sendLimit: number }): void {
    this.sendLimit.set(values.sendLimit);
    this.oldest.set(values.oldestInFlightSeconds);
    this.backlog.set(values.backlogBytes);
    this.checkpointAge.set(values.checkpointAgeSeconds);
    this.inFlight.set(values.inFlight);
  }
}
