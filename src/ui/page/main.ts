/**
 * The status page (served at / by src/ui/status-page.ts, bundled with esbuild): start a Unify flow,
 * play the device's part against the embedded emulator, watch the flow change live over graphql-ws,
 * recover from 9101 with rebind, and bind NONE flows. Plain DOM; every operation is a typed document
 * from ./operations.graphql (`npm run codegen`).
 */
import { createClient, type Client } from 'graphql-ws/client';
import {
  PageBindDocument, PageStartDocument, PageStatusDocument, PageWatchDocument,
  type FlowState, type PageFlowFragment, type PageStatusQuery, type PossessionType, type StartUnifyInput,
  type TypedDocumentString,
} from './generated/graphql.js';

interface PageConfig {
  graphql: string;
  /** Path of the embedded emulator, or null when the gateway talks to Prove itself. */
  emulator: string | null;
}

type StatusResult = PageStatusQuery['unifyStatus'];
interface Current {
  flow: PageFlowFragment;
  authToken: string;
  phoneNumber: string;
  rebind: boolean;
  /** A sandbox number that passes with no device step (2001004018): there is nothing to play. */
  instantPass: boolean;
}

const config = JSON.parse(document.getElementById('page-config')!.textContent!) as PageConfig;
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const KEY_STORAGE = 'unify-gateway.device-key';

let current: Current | undefined;
let unsubscribe: (() => void) | undefined;
let countdown: number | undefined;
let wsClient: Client | undefined;
let startRetry: number | undefined;
/** Sandbox numbers that pass with no device step; /sim/users adds any others. */
const instantPass = new Set(['2001004018']);

const STATE_HELP: Record<FlowState, string> = {
  PENDING: 'Waiting for the device: play its part below. The page then asks unifyStatus, as a front end does when the SDK’s AuthFinishStep fires.',
  VERIFIED: 'Possession verified.',
  POSSESSION_REQUIRED: 'No Prove Key holds this number: check possession your own way, then bind the phone (section 4).',
  BOUND: 'Bound: the number is now held by the device’s Prove Key.',
  FAILED: 'Prove could not confirm possession.',
  EXPIRED: 'The flow expired (flows live 15 minutes). Start a new one.',
};
const TERMINAL: readonly FlowState[] = ['VERIFIED', 'BOUND', 'FAILED', 'EXPIRED'];
const BEHAVIOUR: Record<string, string> = {
  full: 'full flow (SMS code 1234, Instant Link or Prove Key)',
  'instant-pass': 'passes with no device step',
  'mobile-auth': 'Mobile Auth (no SMS code on MOBILE)',
};

// ---------------------------------------------------------------- GraphQL over HTTP and graphql-ws

async function gql<R, V>(doc: TypedDocumentString<R, V>, variables: V, headers: Record<string, string> = {}): Promise<R> {
  const res = await fetch(config.graphql, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: JSON.stringify({ query: doc.toString(), variables }),
  });
  const body = (await res.json().catch(() => ({}))) as { data?: R | null; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) {
    throw new Error(body.errors?.map((e) => e.message).join('; ') || `HTTP ${res.status}`);
  }
  return body.data;
}

function ws(): Client {
  const url = new URL(config.graphql, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  wsClient ??= createClient({
    url: url.href,
    lazy: true,
    retryAttempts: 5,
    on: {
      connected: () => setConnection('connected (graphql-ws)'),
      // The client closes its socket once no subscription is left, i.e. when the flow is final.
      closed: () => setConnection(current && TERMINAL.includes(current.flow.state) ? 'closed: the flow is final' : 'closed'),
    },
  });
  return wsClient;
}

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

// ---------------------------------------------------------------- rendering

function log(text: string, kind: 'info' | 'error' = 'info') {
  const item = document.createElement('li');
  item.className = kind;
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString();
  item.append(time, ` ${text}`);
  $('log').prepend(item);
}

/** What an action answered, next to the button that caused it (errors also go to the Events log). */
function showResult(id: string, text: string, kind: 'info' | 'error' = 'info') {
  const element = $(id);
  element.textContent = text;
  element.classList.toggle('error', kind === 'error');
}

/** Numbers the visible steps 1, 2, 3 … so a hidden one (no device step, no bind) leaves no gap. */
function renumber() {
  let step = 0;
  for (const section of document.querySelectorAll<HTMLElement>('section[data-step]')) {
    if (!section.hidden) section.querySelector('.step')!.textContent = String(++step);
  }
}

function setConnection(text: string) {
  $('connection').textContent = text;
}

function setText(id: string, text: string) {
  $(id).textContent = text;
}

function deviceKey(): string | undefined {
  return localStorage.getItem(KEY_STORAGE) ?? undefined;
}
function setDeviceKey(key: string | undefined) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
  setText('device-key', key ?? 'none yet');
  $<HTMLButtonElement>('forget-key').disabled = !key;
  $<HTMLButtonElement>('use-key').disabled = !key;
}

/** One result of unifyStatus (query or subscription) into the page; the log says which one said what. */
function show(result: StatusResult, source: 'live' | 'unifyStatus') {
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

function renderFlow(flow: PageFlowFragment, detail?: string) {
  if (!current || current.flow.id !== flow.id) return;
  current.flow = flow;
  const state = $('state');
  state.textContent = flow.state;
  state.dataset.state = flow.state;
  const help =
    flow.state === 'VERIFIED' && flow.possessionType === 'NONE'
      ? 'Possession verified: this device’s Prove Key already holds the number, so there is nothing to bind.'
      : flow.state === 'PENDING' && current.instantPass
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
  $('device-section').hidden = !pending || current.instantPass;
  $('bind-section').hidden = flow.state !== 'POSSESSION_REQUIRED';
  if (flow.state !== 'FAILED') $('mismatch-section').hidden = true;
  if ((flow.state === 'VERIFIED' || flow.state === 'BOUND') && flow.deviceId) setDeviceKey(flow.deviceId);
  $('ask-status').hidden = TERMINAL.includes(flow.state);
  if (TERMINAL.includes(flow.state)) stopCountdown();
  renumber();
}

function startCountdown() {
  stopCountdown();
  const tick = () => {
    if (!current) return;
    const left = Math.max(0, Date.parse(current.flow.expiresAt) - Date.now());
    const minutes = Math.floor(left / 60_000);
    const seconds = Math.floor((left % 60_000) / 1000);
    setText('countdown', left > 0 ? `${minutes}:${String(seconds).padStart(2, '0')}` : 'expired');
  };
  tick();
  countdown = window.setInterval(tick, 1000);
}
function stopCountdown() {
  if (countdown !== undefined) window.clearInterval(countdown);
  countdown = undefined;
  if (current && TERMINAL.includes(current.flow.state)) setText('countdown', 'final state, no expiry');
}

// ---------------------------------------------------------------- actions

/** Runs a button's action; what goes wrong is shown next to it (`resultId`) and in the Events log. */
function busy<A extends unknown[]>(button: HTMLButtonElement, resultId: string, action: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      await action(...args);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      showResult(resultId, message, 'error');
      log(message, 'error');
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  };
}

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
  current = {
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
  if (current.instantPass) {
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
  if (!current || !config.emulator) return;
  const key = deviceKey();
  const payload: Record<string, unknown> = { authToken: current.authToken };
  if (body.otp !== undefined) payload.otp = body.otp;
  if (body.instantLink) payload.instantLink = true;
  if (key && current.flow.possessionType !== 'DESKTOP') payload.deviceId = key;
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
  if (!current) return;
  const { unifyStatus } = await gql(PageStatusDocument, { flowId: current.flow.id });
  show(unifyStatus, 'unifyStatus');
}

async function bind(event: SubmitEvent) {
  event.preventDefault();
  if (!current) return;
  const apiKey = $<HTMLInputElement>('api-key').value.trim();
  const phoneNumber = $<HTMLInputElement>('bind-phone').value.trim();
  const { bindPhone } = await gql(
    PageBindDocument,
    { input: { flowId: current.flow.id, phoneNumber } },
    { authorization: `Bearer ${apiKey}` },
  ).catch((error: Error) => {
    throw new Error(`bindPhone: ${error.message}`);
  });
  if (bindPhone.__typename === 'BindPhonePayload') {
    // A trusted answer carries the full number; the page keeps showing it masked, as everywhere else.
    const masked = current.flow.phoneNumber ?? `***${phoneNumber.slice(-4)}`;
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
      if (!current) return;
      await start({ possessionType: current.flow.possessionType, phoneNumber: current.phoneNumber, rebind: true });
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
