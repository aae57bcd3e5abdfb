/** The gateway's record of one Prove Unify session, and the vocabulary around it. */
import type { ProveRegion } from '../prove/regions.js';

export const POSSESSION_TYPES = ['MOBILE', 'DESKTOP', 'NONE'] as const;
export type PossessionType = (typeof POSSESSION_TYPES)[number];

export const FLOW_STATES = ['PENDING', 'POSSESSION_REQUIRED', 'VERIFIED', 'BOUND', 'FAILED', 'EXPIRED'] as const;
export type FlowState = (typeof FLOW_STATES)[number];

export interface FailureReason {
  code: number;
  description: string;
  /** The evaluation category the reason came from, e.g. "authentication". */
  category: string;
}

export interface Evaluation {
  category: string;
  result: string;
  failureReasons: FailureReason[];
}

export interface Flow {
  /** Opaque capability handed to the client; never logged, stored only as the hash of the store key. */
  id: string;
  /** Prove's handle; never shown to public callers. */
  correlationId: string;
  /**
   * The Prove region that holds the session: status and bind go there. Absent on flows stored
   * before regions were recorded, which belong to the default region.
   */
  region?: ProveRegion | undefined;
  /** Kept so an idempotent repeat of startUnify can hand the same token back. */
  authToken: string;
  possessionType: PossessionType;
  /**
   * E.164: the number Prove verified (or tried) once it has answered, else the one the flow
   * started with; absent while a phone-less start has not learnt it.
   */
  phoneNumber?: string | undefined;
  state: FlowState;
  evaluation: Evaluation[];
  rebind: boolean;
  deviceId?: string | undefined;
  proveId?: string | undefined;
  clientHumanId?: string | undefined;
  clientRequestId: string;
  clientCustomerId?: string | undefined;
  /** The API key id the clientCustomerId belongs to (device memory is per key); none for public callers. */
  customerScope?: string | undefined;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  /** Incremented on every stored change, so subscribers can drop duplicate notifications. */
  version: number;
}

export const failureReasonsOf = (flow: Pick<Flow, 'evaluation'>): FailureReason[] =>
  flow.evaluation.flatMap((e) => e.failureReasons);
