import { BindPhoneDocument, FlowDocument, StartUnifyDocument, UnifyStatusDocument, type StartUnifyInput } from '../generated/graphql.js';
import { TEST_API_KEY, type TestGateway } from './gateway.js';

/** Small steps of a whole flow, each through the public GraphQL API over HTTP. */

export const trusted = { apiKey: TEST_API_KEY };

export async function start(gw: TestGateway, input: StartUnifyInput, options: { apiKey?: string } = {}) {
  return (await gw.gql(StartUnifyDocument, { input }, options)).startUnify;
}

/** Starts and insists on success: the flow and its authToken. */
export async function started(gw: TestGateway, input: StartUnifyInput, options: { apiKey?: string } = {}) {
  const result = await start(gw, input, options);
  if (result.__typename !== 'StartUnifyPayload') throw new Error(`start failed: ${JSON.stringify(result)}`);
  return result;
}

export async function status(gw: TestGateway, flowId: string, options: { apiKey?: string } = {}) {
  return (await gw.gql(UnifyStatusDocument, { flowId }, options)).unifyStatus;
}

export async function stored(gw: TestGateway, id: string, options: { apiKey?: string } = {}) {
  return (await gw.gql(FlowDocument, { id }, options)).flow;
}

export async function bind(gw: TestGateway, flowId: string, phoneNumber: string, options: { apiKey?: string } = {}) {
  return (await gw.gql(BindPhoneDocument, { input: { flowId, phoneNumber } }, options)).bindPhone;
}

/** MOBILE with OTP 1234 from start to VERIFIED; returns the verified flow. */
export async function verifiedMobile(
  gw: TestGateway,
  phoneNumber: string,
  extra: Partial<StartUnifyInput> = {},
  options: { apiKey?: string } = {},
) {
  const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber, ...extra }, options);
  await gw.sim.authenticate({ authToken, otp: '1234' });
  const result = await status(gw, flow.id, options);
  if (result.__typename !== 'UnifyStatusPayload') throw new Error(`status failed: ${JSON.stringify(result)}`);
  return result.flow;
}
