import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { BindPhoneDocument, StartUnifyDocument, UnifyStatusDocument, WatchStatusDocument, type StartUnifyInput } from '../generated/graphql.js';
import { captureLogs, EMULATOR_CLIENT_SECRET, leaks, startUpstream, wsClient, wsRun, type Upstream } from './support.js';

/**
 * Whole flows of every kind, their failures and refusals, logged at trace level through the
 * gateway's real logger: no line may carry a full phone number, an authToken, an access token,
 * the client secret, an API key, a flow id or a correlation id.
 */

const logs = captureLogs('trace');
let upstream: Upstream;
let gw: TestGateway;
let ws: Client;
const secrets = new Set<string>([TEST_API_KEY, EMULATOR_CLIENT_SECRET]);
const trusted = { authorization: `Bearer ${TEST_API_KEY}` };

async function call<T>(query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}): Promise<T> {
  const { status, body } = await gw.raw<T>({ query, variables }, headers);
  expect(status, JSON.stringify(body)).toBe(200);
  return body.data as T;
}

async function start(input: StartUnifyInput, headers: Record<string, string> = {}) {
  const data = await call<{ startUnify: { __typename: string; authToken: string; flow: { id: string; deviceId?: string } } }>(print(StartUnifyDocument), { input }, headers);
  expect(data.startUnify.__typename).toBe('StartUnifyPayload');
  secrets.add(data.startUnify.authToken).add(data.startUnify.flow.id);
  return data.startUnify;
}

async function status(flowId: string) {
  const data = await call<{ unifyStatus: { __typename: string; flow?: { state: string; deviceId?: string | null } } }>(print(UnifyStatusDocument), { flowId });
  if (data.unifyStatus.flow?.deviceId) secrets.add(data.unifyStatus.flow.deviceId);
  return data.unifyStatus;
}

beforeAll(async () => {
  upstream = await startUpstream();
  gw = await startGateway({ LOG_LEVEL: 'trace', START_LIMIT_PER_NUMBER: '4/10m', ...upstream.env }, { logger: logs.logger });
  ws = wsClient(gw.graphqlUrl);
  for (const n of ['2001004014', '2001004015', '2001004016', '2001004018']) secrets.add(`+1${n}`);
});
afterAll(async () => {
  await ws?.dispose();
  await gw?.close();
  await upstream?.close();
});

describe('logs of whole flows', () => {
  it('MOBILE with OTP, watched over graphql-ws, then a second flow by its Prove Key', async () => {
    // The customer's backend starts both flows: the remembered device is per API key.
    const first = await start({ possessionType: 'MOBILE', phoneNumber: '2001004014', clientCustomerId: 'customer-7', clientRequestId: 'log-req-1' }, trusted);
    const watched = wsRun(ws, { query: print(WatchStatusDocument), variables: { flowId: first.flow.id } });
    const device = await upstream.sim.authenticate({ authToken: first.authToken, otp: '1234' });
    secrets.add(device.deviceId!);
    expect((await status(first.flow.id)).flow?.state).toBe('VERIFIED');
    expect((await watched).completed).toBe(true);
    const second = await start({ possessionType: 'MOBILE', phoneNumber: '(200) 100-4014', clientCustomerId: 'customer-7' }, trusted);
    await upstream.sim.authenticate({ authToken: second.authToken });
    expect((await status(second.flow.id)).flow?.state).toBe('VERIFIED');
  });

  it('DESKTOP by Instant Link, NONE bound by a trusted backend, a wrong OTP, an instant pass', async () => {
    const desktop = await start({ possessionType: 'DESKTOP', phoneNumber: '2001004015', finalTargetUrl: 'https://example.com/done' });
    await upstream.sim.authenticate({ authToken: desktop.authToken, instantLink: true });
    expect((await status(desktop.flow.id)).flow?.state).toBe('VERIFIED');

    const none = await start({ possessionType: 'NONE', phoneNumber: '2001004016' }, trusted);
    await upstream.sim.authenticate({ authToken: none.authToken });
    expect((await status(none.flow.id)).flow?.state).toBe('POSSESSION_REQUIRED');
    const bound = await call<{ bindPhone: { __typename: string; flow?: { deviceId?: string } } }>(print(BindPhoneDocument), { input: { flowId: none.flow.id, phoneNumber: '+1 200 100 4016' } }, trusted);
    expect(bound.bindPhone.__typename).toBe('BindPhonePayload');
    if (bound.bindPhone.flow?.deviceId) secrets.add(bound.bindPhone.flow.deviceId);

    const wrong = await start({ possessionType: 'MOBILE', phoneNumber: '2001004015' });
    await upstream.sim.authenticate({ authToken: wrong.authToken, otp: '0000' });
    expect((await status(wrong.flow.id)).__typename).toBe('PossessionFailedError');

    const instant = await start({ possessionType: 'MOBILE', phoneNumber: '2001004018' });
    expect((await status(instant.flow.id)).flow?.state).toBe('VERIFIED');
  });

  it('refusals and failures: send limit, Prove outage, a wrong API key, refused credentials', async () => {
    for (let i = 0; i < 5; i++) await call(print(StartUnifyDocument), { input: { possessionType: 'MOBILE', phoneNumber: '2001004016' } });
    await upstream.sim.fault({ endpoint: '/v3/unify', count: 1, status: 503 });
    const outage = await call<{ startUnify: { __typename: string } }>(print(StartUnifyDocument), { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } });
    expect(outage.startUnify.__typename).toBe('UpstreamError');
    const refused = await gw.raw({ query: '{ __typename }' }, { authorization: 'Bearer wrong-key-0123456789abcdef' });
    expect(refused.status).toBe(401);
    secrets.add('wrong-key-0123456789abcdef');
    await upstream.sim.fault({ endpoint: '/v3/unify', count: 2, status: 401 });
    const refusedCredentials = await call<{ startUnify: { __typename: string } }>(print(StartUnifyDocument), { input: { possessionType: 'MOBILE', phoneNumber: '2001004018' } });
    expect(refusedCredentials.startUnify.__typename).toBe('UpstreamError');
  });

  it('no line carries a secret, and the lines say what happened', () => {
    for (const v of [...upstream.seen.accessTokens, ...upstream.seen.correlationIds, ...upstream.seen.authTokens]) secrets.add(v);
    expect(upstream.seen.accessTokens.size).toBeGreaterThan(0);
    expect(leaks(logs.lines, secrets)).toEqual([]);
    const text = logs.lines.join('\n');
    for (const said of ['flow started', 'flow changed', 'start refused by send limit', 'Prove unavailable', 'Prove refused our credentials']) {
      expect(text, said).toContain(said);
    }
  });

  it('the redaction list censors secrets a careless log call would pass', () => {
    const careless = captureLogs('trace');
    careless.logger.info(
      { phoneNumber: '+12001004014', authToken: 'eyJ.secret.token', flowId: 'AAAAAAAAAAAAAAAAAAAAAAAA', req: { headers: { authorization: `Bearer ${TEST_API_KEY}` } }, prove: { clientSecret: EMULATOR_CLIENT_SECRET, access_token: 'tok-123456' } },
      'careless',
    );
    expect(careless.lines).toHaveLength(1);
    expect(leaks(careless.lines, ['+12001004014', 'eyJ.secret.token', 'AAAAAAAAAAAAAAAAAAAAAAAA', TEST_API_KEY, EMULATOR_CLIENT_SECRET, 'tok-123456'])).toEqual([]);
  });
});
