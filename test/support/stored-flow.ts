import { randomBytes, randomUUID } from 'node:crypto';
import type { Flow } from '../../src/flows/flow.js';

/** A new flow id, of the shape FlowService makes (FLOW_ID). */
export const newFlowId = (): string => randomBytes(18).toString('base64url');

/**
 * A flow record as FlowService stores it right after a MOBILE start: PENDING, version 1, fresh
 * ids. For tests and benchmarks that seed the store directly (no Prove calls).
 */
export function pendingFlow(over: Partial<Flow> = {}, now = Date.now()): Flow {
  return {
    id: newFlowId(),
    correlationId: randomUUID(),
    authToken: 'auth-token',
    possessionType: 'MOBILE',
    phoneNumber: '+12001004014',
    state: 'PENDING',
    evaluation: [],
    rebind: false,
    clientRequestId: randomUUID(),
    createdAt: now,
    updatedAt: now,
    expiresAt: now + 600_000,
    version: 1,
    ...over,
  };
}
