import type { EvaluationCategory, ProveSuccess, UnifyOutcome } from '../prove/types.js';
import type { Evaluation, Flow, FlowState, PossessionType } from './flow.js';
import { normalisePhoneNumber } from './phone.js';

/**
 * The flow state machine, as pure functions: given a flow and what Prove said (or the clock),
 * the next flow, or the same one when nothing may change. Terminal states never change again.
 */

const NEXT: Record<FlowState, readonly FlowState[]> = {
  PENDING: ['VERIFIED', 'FAILED', 'POSSESSION_REQUIRED', 'EXPIRED'],
  POSSESSION_REQUIRED: ['BOUND', 'FAILED', 'EXPIRED'],
  VERIFIED: [],
  BOUND: [],
  FAILED: [],
  EXPIRED: [],
};

export const isTerminal = (state: FlowState): boolean => NEXT[state].length === 0;

export const canTransition = (from: FlowState, to: FlowState): boolean => NEXT[from].includes(to);

/**
 * Prove's unify-status `success` -> the state it means. Anything unknown is a failure, never a pass.
 * possession_required on a MOBILE or DESKTOP flow (Prove: SMS or Mobile Auth could not finish,
 * "depending on the flow") is a failure too: only customer-supplied (NONE) flows can be bound, so
 * such a flow could only wait for its expiry. The client starts again.
 */
export function stateFromStatus(success: ProveSuccess, possessionType: PossessionType = 'NONE'): FlowState {
  switch (success) {
    case 'pending':
      return 'PENDING';
    case 'true':
      return 'VERIFIED';
    case 'possession_required':
      return possessionType === 'NONE' ? 'POSSESSION_REQUIRED' : 'FAILED';
    default:
      return 'FAILED';
  }
}

/** Prove's unify-bind `success` -> the state it means. */
export const stateFromBind = (success: ProveSuccess): FlowState => (success === 'true' ? 'BOUND' : 'FAILED');

/** Prove's `{ category: { result, failureReasons: { code: text } } }` -> a list the API can expose. */
export function toEvaluations(evaluation: Record<string, EvaluationCategory> | undefined): Evaluation[] {
  return Object.entries(evaluation ?? {}).map(([category, { result, failureReasons }]) => ({
    category,
    // Prove's own examples send categories without a result: say so rather than guess pass or fail.
    result: result ?? 'unknown',
    failureReasons: Object.entries(failureReasons).map(([code, description]) => ({
      // Codes are an open set; a non-numeric key is kept (as -1) rather than silently dropped.
      code: /^\d+$/.test(code) ? Number(code) : -1,
      description: /^\d+$/.test(code) ? description : `${code}: ${description}`,
      category,
    })),
  }));
}

/**
 * The number Prove reports: the one it verified, which the person may have changed on the device.
 * In E.164 when it reads as a number (Prove writes US numbers without +1); as Prove wrote it otherwise.
 */
function verifiedNumber(reported: string | undefined): string | undefined {
  if (!reported) return undefined;
  try {
    return normalisePhoneNumber(reported, { sandbox: true, allowedCountries: [] });
  } catch {
    return reported;
  }
}

export interface Transition {
  flow: Flow;
  changed: boolean;
}

const unchanged = (flow: Flow): Transition => ({ flow, changed: false });

function moveTo(flow: Flow, state: FlowState, outcome: UnifyOutcome | undefined, now: number): Transition {
  if (!canTransition(flow.state, state)) return unchanged(flow);
  return {
    changed: true,
    flow: {
      ...flow,
      state,
      evaluation: outcome?.evaluation ? toEvaluations(outcome.evaluation) : flow.evaluation,
      phoneNumber: verifiedNumber(outcome?.phoneNumber) ?? flow.phoneNumber,
      deviceId: outcome?.deviceId ?? flow.deviceId,
      proveId: outcome?.proveId ?? flow.proveId,
      clientHumanId: outcome?.clientHumanId ?? flow.clientHumanId,
      updatedAt: now,
      version: flow.version + 1,
    },
  };
}

/** The clock first: a flow past its lifetime is EXPIRED whatever Prove would say. */
export function expireIfDue(flow: Flow, now: number): Transition {
  return now >= flow.expiresAt ? moveTo(flow, 'EXPIRED', undefined, now) : unchanged(flow);
}

export function applyStatus(flow: Flow, outcome: UnifyOutcome, now: number): Transition {
  const expired = expireIfDue(flow, now);
  if (expired.changed || isTerminal(flow.state)) return expired;
  return moveTo(flow, stateFromStatus(outcome.success, flow.possessionType), outcome, now);
}

export function applyBind(flow: Flow, outcome: UnifyOutcome, now: number): Transition {
  const expired = expireIfDue(flow, now);
  if (expired.changed || isTerminal(flow.state)) return expired;
  return moveTo(flow, stateFromBind(outcome.success), outcome, now);
}

/** Only customer-supplied possession, and only once Prove asked for it. */
export const canBind = (flow: Flow): boolean => flow.possessionType === 'NONE' && flow.state === 'POSSESSION_REQUIRED';
