// A Node client: start a MOBILE flow over HTTP, follow it live over graphql-ws and, against the
// embedded emulator, play the phone's part. Run: node examples/watch-flow.mjs
// (GATEWAY_URL defaults to http://127.0.0.1:4000/graphql; needs graphql-ws and ws).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const url = process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';

async function graphql(query, variables) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const { data, errors } = await res.json();
  if (errors) throw new Error(errors.map((e) => e.message).join('; '));
  return data;
}

const { startUnify } = await graphql(
  `mutation Start($input: StartUnifyInput!) {
    startUnify(input: $input) {
      __typename
      ... on StartUnifyPayload { authToken flow { id state } }
      ... on Error { code message }
    }
  }`,
  { input: { possessionType: 'MOBILE', phoneNumber: '2001004014' } },
);
if (startUnify.__typename !== 'StartUnifyPayload') throw new Error(`${startUnify.code}: ${startUnify.message}`);
const { authToken, flow } = startUnify;
console.log(`started flow, state ${flow.state}`);

// The phone: Prove's client SDK runs Authenticate(authToken). With the embedded emulator, one
// request plays it (SMS code 1234). Then the SDK's AuthFinishStep: ask unifyStatus once.
async function device() {
  const emulator = new URL('/prove-emulator/sim/authenticate', url);
  const res = await fetch(emulator, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ authToken, otp: '1234' }),
  });
  console.log(`device: ${(await res.json()).result}`);
  await graphql(`query Status($flowId: ID!) { unifyStatus(flowId: $flowId) { __typename } }`, { flowId: flow.id });
}

// Node 20 has no global WebSocket: give graphql-ws the one from the ws package.
const ws = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket });
let played = false;
await new Promise((resolve, reject) => {
  ws.subscribe(
    {
      query: `subscription Watch($flowId: ID!) {
        unifyStatus(flowId: $flowId) {
          __typename
          ... on UnifyStatusPayload { flow { state deviceId } }
          ... on Error { code message }
        }
      }`,
      variables: { flowId: flow.id },
    },
    {
      next: ({ data }) => {
        const status = data.unifyStatus;
        console.log(`live: ${status.flow ? status.flow.state : `${status.code} ${status.message}`}`);
        if (status.flow?.state === 'PENDING' && !played) {
          played = true;
          device().catch(reject);
        }
      },
      error: reject,
      complete: resolve, // after a final state
    },
  );
});
await ws.dispose();
