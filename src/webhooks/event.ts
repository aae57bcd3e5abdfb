import { createHash } from 'node:crypto';
import { failureReasonsOf, type FailureReason, type Flow, type FlowState } from '../flows/flow.js';

/**
 * What the backend is told about a transition: a Standard Webhooks payload `{ type, timestamp, data }`.
 * The receiver is the operator's own backend, so the full number and the flow id are in it.
 */

export const WEBHOOK_EVENT_TYPES = ['flow.verified', 'flow.bound', 'flow.failed', 'flow.expired', 'flow.possession_required'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEventData {
  flowId: string;
  state: FlowState;
  possessionType: Flow['possessionType'];
  clientRequestId: string;
  clientCustomerId: string | null;
  /** E.164; null for a phone-less start that Prove has not yet told us the number of. */
  phoneNumber: string | null;
  deviceId: string | null;
  proveId: string | null;
  failureReasons: FailureReason[];
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
}

export interface WebhookEvent {
  /** The `webhook-id` header: the same for every attempt and every endpoint, so receivers can de-duplicate. */
  id: string;
  type: WebhookEventType;
  /** When the transition happened (ms since the epoch); the payload carries it as ISO 8601. */
  occurredAt: number;
  /** The payload, serialised once: every attempt sends (and signs) the same bytes. */
  body: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * One id per stored version of one flow: whichever instance (or retry) makes the event for that
 * transition makes the same id, so a queue keyed by it holds one delivery per transition. A hash,
 * so queue keys in Redis do not show flow ids.
 */
export const eventIdFor = (flow: Pick<Flow, 'id' | 'version'>): string =>
  `msg_${createHash('sha256').update(`webhook\0${flow.id}\0${flow.version}`).digest('base64url').slice(0, 32)}`;

/** The event for the flow as just stored, or undefined for a state that is not an outcome (PENDING). */
export function webhookEventFor(flow: Flow): WebhookEvent | undefined {
  if (flow.state === 'PENDING') return undefined;
  const type = `flow.${flow.state.toLowerCase()}` as WebhookEventType;
  const data: WebhookEventData = {
    flowId: flow.id,
    state: flow.state,
    possessionType: flow.possessionType,
    clientRequestId: flow.clientRequestId,
    clientCustomerId: flow.clientCustomerId ?? null,
    phoneNumber: flow.phoneNumber ?? null,
    deviceId: flow.deviceId ?? null,
    proveId: flow.proveId ?? null,
    failureReasons: failureReasonsOf(flow),
    createdAt: iso(flow.createdAt),
    updatedAt: iso(flow.updatedAt),
    expiresAt: iso(flow.expiresAt),
  };
  return {
    id: eventIdFor(flow),
    type,
    occurredAt: flow.updatedAt,
    body: JSON.stringify({ type, timestamp: iso(flow.updatedAt), data }),
  };
}
