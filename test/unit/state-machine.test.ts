import { describe, expect, it } from 'vitest';
import type { Flow, FlowState } from '../../src/flows/flow.js';
import { FLOW_STATES } from '../../src/flows/flow.js';
import {
  applyBind, applyStatus, canBind, canTransition, expireIfDue, isTerminal, stateFromStatus, toEvaluations,
} from '../../src/flows/state-machine.js';
import { outcomeError } from '../../src/flows/errors.js';

const flow = (state: FlowState, extra: Partial<Flow> = {}): Flow => ({
  id: 'x'.repeat(24), correlationId: 'c', authToken: 't', possessionType: 'MOBILE', phoneNumber: '+12001004014',
  state, evaluation: [], rebind: false, clientRequestId: 'r', createdAt: 0, updatedAt: 0, expiresAt: 1000, version: 1,
  ...extra,
});

const allowed: Record<FlowState, FlowState[]> = {
  PENDING: ['VERIFIED', 'FAILED', 'POSSESSION_REQUIRED', 'EXPIRED'],
  POSSESSION_REQUIRED: ['BOUND', 'FAILED', 'EXPIRED'],
  VERIFIED: [], BOUND: [], FAILED: [], EXPIRED: [],
};

describe('transitions', () => {
  for (const from of FLOW_STATES) {
    for (const to of FLOW_STATES) {
      const ok = allowed[from].includes(to);
      it(`${from} -> ${to} is ${ok ? 'allowed' : 'refused'}`, () => expect(canTransition(from, to)).toBe(ok));
    }
  }
  it('VERIFIED, BOUND, FAILED and EXPIRED are terminal; the others are not', () => {
    expect(FLOW_STATES.filter(isTerminal)).toEqual(['VERIFIED', 'BOUND', 'FAILED', 'EXPIRED']);
  });
});

describe("Prove's success", () => {
  it.each([
    ['pending', 'PENDING'], ['true', 'VERIFIED'], ['possession_required', 'POSSESSION_REQUIRED'], ['false', 'FAILED'],
    ['maybe', 'FAILED'], ['', 'FAILED'],
  ])('%s means %s (anything unknown fails, never passes)', (success, state) => {
    expect(stateFromStatus(success)).toBe(state);
  });
});

describe('applyStatus / applyBind', () => {
  it('records evaluation, deviceId and proveId, bumps version and updatedAt', () => {
    const next = applyStatus(flow('PENDING'), {
      success: 'true', deviceId: 'd1', proveId: 'p1',
      evaluation: { authentication: { result: 'pass', failureReasons: {} } },
    }, 500);
    expect(next.changed).toBe(true);
    expect(next.flow).toMatchObject({ state: 'VERIFIED', deviceId: 'd1', proveId: 'p1', version: 2, updatedAt: 500 });
    expect(next.flow.evaluation).toEqual([{ category: 'authentication', result: 'pass', failureReasons: [] }]);
  });

  it('pending again is no change', () => {
    expect(applyStatus(flow('PENDING'), { success: 'pending' }, 10).changed).toBe(false);
  });

  it('a terminal flow never changes, whatever Prove says', () => {
    for (const state of ['VERIFIED', 'BOUND', 'FAILED', 'EXPIRED'] as const) {
      expect(applyStatus(flow(state), { success: 'false' }, 10).changed).toBe(false);
      expect(applyBind(flow(state), { success: 'true' }, 10).changed).toBe(false);
    }
  });

  it('the clock wins: past expiresAt the flow is EXPIRED even if Prove says true', () => {
    const next = applyStatus(flow('PENDING'), { success: 'true' }, 1000);
    expect(next.flow.state).toBe('EXPIRED');
    expect(expireIfDue(flow('VERIFIED'), 5000).changed).toBe(false);
  });

  it('bind: true -> BOUND, anything else -> FAILED, only from POSSESSION_REQUIRED', () => {
    const none = flow('POSSESSION_REQUIRED', { possessionType: 'NONE' });
    expect(canBind(none)).toBe(true);
    expect(canBind({ ...none, possessionType: 'MOBILE' })).toBe(false);
    expect(canBind(flow('PENDING', { possessionType: 'NONE' }))).toBe(false);
    expect(applyBind(none, { success: 'true', deviceId: 'd' }, 10).flow.state).toBe('BOUND');
    expect(applyBind(none, { success: 'false' }, 10).flow.state).toBe('FAILED');
    expect(applyBind(flow('PENDING'), { success: 'true' }, 10).changed).toBe(false);
  });
});

describe('evaluation and outcome errors', () => {
  it('failureReasons keyed by code become a list, unknown codes kept', () => {
    expect(toEvaluations({ authentication: { result: 'fail', failureReasons: { '9101': 'mismatch', '9999': 'new' } } })).toEqual([
      { category: 'authentication', result: 'fail', failureReasons: [
        { code: 9101, description: 'mismatch', category: 'authentication' },
        { code: 9999, description: 'new', category: 'authentication' },
      ] },
    ]);
  });

  it('9101 is a ProveKeyMismatch (rebind required unless the flow already rebinds); other failures are PossessionFailed', () => {
    const reasons = (code: number) => [{ category: 'authentication', result: 'fail', failureReasons: [{ code, description: '', category: 'authentication' }] }];
    const mismatch = outcomeError(flow('FAILED', { evaluation: reasons(9101) }));
    expect(mismatch?.name).toBe('ProveKeyMismatchError');
    expect((mismatch as unknown as { rebindRequired: boolean }).rebindRequired).toBe(true);
    expect((outcomeError(flow('FAILED', { evaluation: reasons(9101), rebind: true })) as unknown as { rebindRequired: boolean }).rebindRequired).toBe(false);
    expect(outcomeError(flow('FAILED', { evaluation: reasons(9100) }))?.name).toBe('PossessionFailedError');
    expect(outcomeError(flow('EXPIRED'))?.name).toBe('FlowExpiredError');
    expect(outcomeError(flow('VERIFIED'))).toBeUndefined();
  });
});
