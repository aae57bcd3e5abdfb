import type { FlowState, PageFlowFragment } from './generated/graphql.js';
import { $, log, renumber, setText } from './dom.js';
import { setDeviceKey } from './device-key.js';
import { page, TERMINAL, type StatusResult } from './state.js';

/** The flow on the page: its state, what it means, its details and its expiry countdown. */

const STATE_HELP: Record<FlowState, string> = {
  PENDING: 'Waiting for the device: play its part below. The page then asks unifyStatus, as a front end does when the SDK’s AuthFinishStep fires.',
  VERIFIED: 'Possession verified.',
  POSSESSION_REQUIRED: 'No Prove Key holds this number: check possession your own way, then bind the phone (section 4).',
  BOUND: 'Bound: the number is now held by the device’s Prove Key.',
  FAILED: 'Prove could not confirm possession.',
  EXPIRED: 'The flow expired (flows live 15 minutes). Start a new one.',
};
let countdown: number | undefined;

/** One result of unifyStatus (query or subscription) into the page; the log says which one said what. */
export function show(result: StatusResult, source: 'live' | 'unifyStatus') {
  if ('flow' in result && result.flow) {
    const reasons = result.flow.failureReasons.map((r) => r.code).join(', ');
    log(`${source}: ${result.flow.state}${reasons ? ` (${reasons})` : ''}${result.__typename === 'UnifyStatusPayload' ? '' : `, ${result.__typename}`}`);
  }
  switch (result.__typename) {
    case 'UnifyStatusPayload':
      renderFlow(result.flow);
      return;
    case 'ProveKeyMismatchError':
      renderFlow(result.flow, `Prove reason ${result.upstreamCode}: ${result.message}`);
      $('mismatch-section').hidden = false;
      return;
    case 'PossessionFailedError':
      renderFlow(result.flow, result.failureReasons.map((r) => `${r.code}: ${r.description}`).join('; '));
      return;
    case 'FlowExpiredError':
      renderFlow(result.flow);
      return;
    default:
      log(`${source}: ${result.__typename} ${result.message}`, 'error');
  }
}

export function renderFlow(flow: PageFlowFragment, detail?: string) {
  if (!page.current || page.current.flow.id !== flow.id) return;
  page.current.flow = flow;
  const state = $('state');
  state.textContent = flow.state;
  state.dataset.state = flow.state;
  const help =
    flow.state === 'VERIFIED' && flow.possessionType === 'NONE'
      ? 'Possession verified: this device’s Prove Key already holds the number, so there is nothing to bind.'
      : flow.state === 'PENDING' && page.current.instantPass
        ? 'This sandbox number passes with no device step: the page asks unifyStatus at once.'
        : STATE_HELP[flow.state];
  setText('state-help', detail ? `${help} ${detail}` : help);
  setText('flow-type', flow.possessionType);
  setText('flow-phone', flow.phoneNumber ?? '—');
  setText('flow-device', flow.deviceId ?? '—');
  setText(
    'flow-reasons',
    flow.failureReasons.length ? flow.failureReasons.map((r) => `${r.code} ${r.description}`).join('; ') : '—',
  );

  const pending = flow.state === 'PENDING';
  $('device-section').hidden = !pending || page.current.instantPass;
  $('bind-section').hidden = flow.state !== 'POSSESSION_REQUIRED';
  if (flow.state !== 'FAILED') $('mismatch-section').hidden = true;
  if ((flow.state === 'VERIFIED' || flow.state === 'BOUND') && flow.deviceId) setDeviceKey(flow.deviceId);
  $('ask-status').hidden = TERMINAL.includes(flow.state);
  if (TERMINAL.includes(flow.state)) stopCountdown();
  renumber();
}

export function startCountdown() {
  stopCountdown();
  const tick = () => {
    if (!page.current) return;
    const left = Math.max(0, Date.parse(page.current.flow.expiresAt) - Date.now());
    const minutes = Math.floor(left / 60_000);
    const seconds = Math.floor((left % 60_000) / 1000);
    setText('countdown', left > 0 ? `${minutes}:${String(seconds).padStart(2, '0')}` : 'expired');
  };
  tick();
  countdown = window.setInterval(tick, 1000);
}
export function stopCountdown() {
  if (countdown !== undefined) window.clearInterval(countdown);
  countdown = undefined;
  if (page.current && TERMINAL.includes(page.current.flow.state)) setText('countdown', 'final state, no expiry');
}
