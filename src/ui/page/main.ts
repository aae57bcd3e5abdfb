/**
 * The status page (served at / by src/ui/status-page.ts, bundled with esbuild): start a Unify flow,
 * play the device's part against the embedded emulator, watch the flow change live over graphql-ws,
 * recover from 9101 with rebind, and bind NONE flows. Plain DOM; every operation is a typed document
 * from ./operations.graphql (`npm run codegen`). This module holds the actions and their wiring;
 * api.ts talks to the gateway, flow-view.ts shows the flow, dom.ts and device-key.ts help both.
 */
import { PageBindDocument, PageStartDocument, PageStatusDocument, PageWatchDocument, type PossessionType, type StartUnifyInput } from './generated/graphql.js';
import { gql, ws } from './api.js';
import { $, busy, log, renumber, setConnection, showResult } from './dom.js';
import { deviceKey, setDeviceKey } from './device-key.js';
import { renderFlow, show, startCountdown } from './flow-view.js';
import { config, page, type StatusResult } from './state.js';

let unsubscribe: (() => void) | undefined;
let startRetry: number | undefined;
/** Sandbox numbers that pass with no device step; /sim/users adds any others. */
const instantPass = new Set(['2001004018']);
const BEHAVIOUR: Record<string, string> = {
  full: 'full flow (SMS code 1234, Instant Link or Prove Key)',
  'instant-pass': 'passes with no device step',
  'mobile-auth': 'Mobile Auth (no SMS code on MOBILE)',
};

function watch(flowId: string) {
  unsubscribe?.();
  setConnection('connecting…');
  unsubscribe = ws().subscribe<{ unifyStatus: StatusResult }>(
    { query: PageWatchDocument.toString(), variables: { flowId } },
    {
      next: ({ data, errors }) => {
        if (data) show(data.unifyStatus, 'live');
        if (errors?.length) log(`live: ${errors.map((e) => e.message).join('; ')}`, 'error');
      },
      error: (error) => log(`live: subscription error ${error instanceof Error ? error.message : ''}`.trim(), 'error'),
      complete: () => log('live: subscription complete (final state)'),
    },
  );
}

// ---------------------------------------------------------------- actions

async function start(input: { possessionType: PossessionType; phoneNumber: string; rebind: boolean }) {
  const startInput: StartUnifyInput = { possessionType: input.possessionType, phoneNumber: input.phoneNumber, rebind: input.rebind };
  // DESKTOP: where the Instant Link sends the person afterwards. This page will do.
  if (input.possessionType === 'DESKTOP') startInput.finalTargetUrl = new URL('/', location.href).href;
  const { startUnify } = await gql(PageStartDocument, { input: startInput }).catch((error: Error) => {
    throw new Error(`startUnify: ${error.message}`);
  });
  window.clearInterval(startRetry);
  if (startUnify.__typename !== 'StartUnifyPayload') {
    const field = startUnify.__typename === 'InvalidInputError' ? ` (${startUnify.field})` : '';
    const said = `startUnify: ${startUnify.__typename}${field}: ${startUnify.message}`;
    log(said, 'error');
    // The countdown replaces the message's own "try again in N s".
    if (startUnify.__typename === 'RateLimitedError') retryCountdown(`${said.replace(/;?\s*try again in \d+ ?s\.?$/i, '')}.`, startUnify.retryAfterSeconds);
    else showResult('start-result', said, 'error');
    return;
  }
  showResult('start-result', '');
  page.current = {
    flow: startUnify.flow, authToken: startUnify.authToken, phoneNumber: input.phoneNumber, rebind: input.rebind,
    instantPass: instantPass.has(input.phoneNumber),
  };
  $('flow-section').hidden = false;
  $('device-result').textContent = '';
  $('bind-result').textContent = '';
  $('mismatch-section').hidden = true;
  for (const id of ['device-mobile', 'device-desktop', 'device-none']) $(id).hidden = true;
  $(`device-${input.possessionType.toLowerCase()}`).hidden = false;
  $<HTMLInputElement>('bind-phone').value = input.phoneNumber;
  renderFlow(startUnify.flow);
  log(`started ${input.possessionType} for ${input.phoneNumber}${input.rebind ? ' with rebind' : ''}`);
  watch(startUnify.flow.id);
  startCountdown();
  $('flow-h').focus();
  if (page.current.instantPass) {
    log('device: nothing to play, this sandbox number passes with no device step');
    await askStatus();
  }
}

/** A refused start, next to Start: when to try again, counting down. */
function retryCountdown(said: string, seconds: number) {
  const until = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      window.clearInterval(startRetry);
      showResult('start-result', 'You can start again.');
      return;
    }
    const wait = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    showResult('start-result', `${said} Try again in ${wait}.`, 'error');
  };
  tick();
  startRetry = window.setInterval(tick, 1000);
}

/** Stands in for the Prove client SDK on the phone, then does what AuthFinishStep would: ask unifyStatus. */
async function device(body: { otp?: string; instantLink?: boolean; useKey?: boolean }) {
  if (!page.current || !config.emulator) return;
  const key = deviceKey();
  const payload: Record<string, unknown> = { authToken: page.current.authToken };
  if (body.otp !== undefined) payload.otp = body.otp;
  if (body.instantLink) payload.instantLink = true;
  if (key && page.current.flow.possessionType !== 'DESKTOP') payload.deviceId = key;
  const res = await fetch(`${config.emulator}/sim/authenticate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const answer = (await res.json()) as { result?: string; deviceId?: string; message?: string };
  if (!res.ok) {
    showResult('device-result', `Device: refused: ${answer.message ?? res.status}`, 'error');
    log(`device: refused (${answer.message ?? res.status})`, 'error');
    return;
  }
  const said = answer.result === 'retry' ? 'wrong code, the person may try again' : answer.result ?? '?';
  const presented = key && payload.deviceId ? `, presenting this device’s Prove Key (…${key.slice(-6)})` : '';
  showResult('device-result', `Device: ${said}${presented}`);
  log(`device: ${said}${presented ? ' (presented its Prove Key)' : ''}`);
  if (answer.result === 'retry') return;
  await askStatus();
}

async function askStatus() {
  if (!page.current) return;
  const { unifyStatus } = await gql(PageStatusDocument, { flowId: page.current.flow.id });
  show(unifyStatus, 'unifyStatus');
}

async function bind(event: SubmitEvent) {
  event.preventDefault();
  if (!page.current) return;
  const apiKey = $<HTMLInputElement>('api-key').value.trim();
  const phoneNumber = $<HTMLInputElement>('bind-phone').value.trim();
  const { bindPhone } = await gql(
    PageBindDocument,
    { input: { flowId: page.current.flow.id, phoneNumber } },
    { authorization: `Bearer ${apiKey}` },
  ).catch((error: Error) => {
    throw new Error(`bindPhone: ${error.message}`);
  });
  if (bindPhone.__typename === 'BindPhonePayload') {
    // A trusted answer carries the full number; the page keeps showing it masked, as everywhere else.
    const masked = page.current.flow.phoneNumber ?? `***${phoneNumber.slice(-4)}`;
    showResult('bind-result', `Bound ${masked}.`);
    log(`bindPhone: ${bindPhone.flow.state}`);
    renderFlow({ ...bindPhone.flow, phoneNumber: masked });
  } else {
    showResult('bind-result', `${bindPhone.__typename}: ${bindPhone.message}`, 'error');
    log(`bindPhone: ${bindPhone.__typename}: ${bindPhone.message}`, 'error');
  }
}

// ---------------------------------------------------------------- wiring

async function loadNumbers() {
  const select = $<HTMLSelectElement>('phone');
  if (!config.emulator) return;
  try {
    const res = await fetch(`${config.emulator}/sim/users`);
    const { users } = (await res.json()) as { users: { phoneNumber: string; behaviour: string; description: string }[] };
    select.replaceChildren(
      ...users.map((u) => {
        const option = new Option(`${u.phoneNumber} · ${BEHAVIOUR[u.behaviour] ?? u.description}`, u.phoneNumber);
        option.title = u.description;
        if (u.behaviour === 'instant-pass') instantPass.add(u.phoneNumber);
        option.selected = u.phoneNumber === '2001004014';
        return option;
      }),
    );
  } catch {
    log('could not list the sandbox users; the built-in list stays', 'error');
  }
}

function init() {
  setDeviceKey(deviceKey());
  if (!config.emulator) {
    $('no-emulator').hidden = false;
    for (const id of ['device-mobile', 'device-desktop', 'device-none']) $(id).remove();
  }
  void loadNumbers();

  const startButton = $<HTMLButtonElement>('start');
  $<HTMLFormElement>('start-form').addEventListener(
    'submit',
    busy(startButton, 'start-result', async (event: SubmitEvent) => {
      event.preventDefault();
      const form = new FormData(event.target as HTMLFormElement);
      await start({
        possessionType: form.get('possessionType') as PossessionType,
        phoneNumber: String(form.get('phoneNumber')),
        rebind: form.get('rebind') === 'on',
      });
    }),
  );
  const rebind = $<HTMLButtonElement>('rebind');
  rebind.addEventListener(
    'click',
    busy(rebind, 'start-result', async () => {
      if (!page.current) return;
      await start({ possessionType: page.current.flow.possessionType, phoneNumber: page.current.phoneNumber, rebind: true });
    }),
  );
  const otp = $<HTMLButtonElement>('send-otp');
  otp.addEventListener('click', busy(otp, 'device-result', () => device({ otp: $<HTMLInputElement>('otp').value.trim() })));
  const useKey = $<HTMLButtonElement>('use-key');
  useKey.addEventListener('click', busy(useKey, 'device-result', () => device({ useKey: true })));
  const link = $<HTMLButtonElement>('tap-link');
  link.addEventListener('click', busy(link, 'device-result', () => device({ instantLink: true })));
  const sdk = $<HTMLButtonElement>('run-sdk');
  sdk.addEventListener('click', busy(sdk, 'device-result', () => device({})));
  const ask = $<HTMLButtonElement>('ask-status');
  ask.addEventListener('click', busy(ask, 'ask-result', askStatus));
  $('forget-key').addEventListener('click', () => {
    setDeviceKey(undefined);
    log('device: forgot its Prove Key');
  });
  const bindButton = $<HTMLButtonElement>('bind');
  $<HTMLFormElement>('bind-form').addEventListener('submit', busy(bindButton, 'bind-result', bind));
  renumber();
  document.body.dataset.ready = 'true';
}

init();
