import type { Logger } from 'pino';
import type { RetrySchedule } from './config.js';
import { redactUrl } from './config.js';
import type { WebhookEventType } from './event.js';
import type { Signer } from './signing.js';
import { retryDelayMs, retryWindowOver } from './schedule.js';
import type { WebhookMetrics } from './metrics.js';

/**
 * One event to one endpoint, and what one attempt at it means: 2xx delivered; 5xx, 429, 408,
 * timeouts and network errors retried; 410 disables the endpoint until this instance restarts;
 * any other answer (a 3xx included: redirects are not followed) is refused for good and kept for
 * replay. Nothing here logs the body: it carries a full phone number.
 */

export interface Delivery {
  eventId: string;
  type: WebhookEventType;
  /** When the transition happened; retries go on for the schedule's window from here. */
  occurredAt: number;
  body: string;
  url: string;
  /**
   * The W3C trace context active when the transition was stored (tracing on only). Kept with the
   * queued delivery, in Redis too, so every attempt, on whichever instance, joins that trace.
   */
  traceparent?: string;
  tracestate?: string;
}

export type Outcome = 'delivered' | 'retry' | 'gone' | 'rejected' | 'expired' | 'disabled';

/** What the queue does next: forget the delivery (settled) or try again after a delay. */
export type Decision =
  | { settled: true; outcome: Exclude<Outcome, 'retry'> }
  | { settled: false; retryInMs: number };

type Attempt = { kind: 'delivered' | 'retry' | 'gone' | 'rejected'; status?: number; reason: string };

/** What one attempt tells its span: the answer's status, and headers that carry the trace to the receiver. */
export interface AttemptTrace {
  headers: Record<string, string>;
  status?: number;
}

/**
 * Tracing's seam for webhooks (src/observability/webhook-spans.ts implements it): a type here so
 * this module never loads OpenTelemetry, which is only imported when tracing is on.
 */
export interface DeliveryTracing {
  /** The active trace context, to store with deliveries queued now. */
  capture(): Pick<Delivery, 'traceparent' | 'tracestate'>;
  /** One attempt inside a span continuing the delivery's stored trace context. */
  attempt(delivery: Delivery, attempt: number, run: (trace: AttemptTrace) => Promise<Decision>): Promise<Decision>;
}

export interface DelivererOptions {
  signer: Signer;
  timeoutMs: number;
  retry: RetrySchedule;
  logger: Logger;
  metrics: WebhookMetrics;
  /** The flows' clock (transition times): the retry window and the delivery lag are measured on it. */
  now?: () => number;
  tracing?: DeliveryTracing;
}

export interface Deliverer {
  /** One attempt (`attempt` counts from 1) and the decision it leads to. Never throws. */
  run(delivery: Delivery, attempt: number): Promise<Decision>;
  /** An endpoint that answered 410 Gone: nothing more is sent to it until restart. */
  disabled(url: string): boolean;
}

const classify = (status: number): Attempt['kind'] => {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 410) return 'gone';
  if (status >= 500 || status === 429 || status === 408) return 'retry';
  return 'rejected';
};

async function send(delivery: Delivery, signer: Signer, timeoutMs: number, now: number, trace?: AttemptTrace): Promise<Attempt> {
  try {
    const res = await fetch(delivery.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'unify-gateway-webhooks',
        // The signature covers the body only: trace headers can be added without touching it.
        ...trace?.headers,
        ...signer(delivery.eventId, delivery.body, new Date(now)),
      },
      body: delivery.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer's body is of no interest; dropping it frees the connection for the next delivery.
    await res.body?.cancel().catch(() => {});
    if (trace) trace.status = res.status;
    const kind = classify(res.status);
    const reason = kind === 'rejected' && res.status >= 300 && res.status < 400 ? 'redirect not followed' : `HTTP ${res.status}`;
    return { kind, status: res.status, reason };
  } catch (error) {
    const name = (error as Error).name;
    return { kind: 'retry', reason: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network error' };
  }
}

export function createDeliverer({ signer, timeoutMs, retry, logger, metrics, now = Date.now, tracing }: DelivererOptions): Deliverer {
  const gone = new Set<string>();
  const settle = (delivery: Delivery, outcome: Exclude<Outcome, 'retry'>): Decision => {
    metrics.outcome(delivery.type, outcome);
    if (outcome === 'delivered') metrics.delivered(delivery.type, (now() - delivery.occurredAt) / 1000);
    return { settled: true, outcome };
  };
  return {
    disabled: (url) => gone.has(url),
    async run(delivery, attempt) {
      // Nothing is sent to a disabled endpoint, so there is no attempt to trace either.
      if (gone.has(delivery.url)) return settle(delivery, 'disabled');
      return tracing ? tracing.attempt(delivery, attempt, (trace) => decide(delivery, attempt, trace)) : decide(delivery, attempt);
    },
  };

  async function decide(delivery: Delivery, attempt: number, trace?: AttemptTrace): Promise<Decision> {
    // Signed with the wall clock, whatever clock the flows run on: the receiver checks it against its own.
    const result = await send(delivery, signer, timeoutMs, Date.now(), trace);
    if (result.kind === 'delivered') return settle(delivery, 'delivered');
    const where = { event: delivery.type, endpoint: redactUrl(delivery.url), attempt, status: result.status, reason: result.reason };
    if (result.kind === 'gone') {
      gone.add(delivery.url);
      logger.warn(where, 'webhook endpoint answered 410 Gone: disabled until restart');
      return settle(delivery, 'gone');
    }
    if (result.kind === 'rejected') {
      logger.warn(where, 'webhook refused by the endpoint: not retried (kept for replay)');
      return settle(delivery, 'rejected');
    }
    if (retryWindowOver(delivery.occurredAt, now(), retry)) {
      logger.warn(where, 'webhook attempt failed and the retry window is over: given up (kept for replay)');
      return settle(delivery, 'expired');
    }
    const retryInMs = retryDelayMs(attempt, retry);
    metrics.outcome(delivery.type, 'retry');
    logger.warn({ ...where, retryInMs }, 'webhook attempt failed; will retry');
    return { settled: false, retryInMs };
  }
}
