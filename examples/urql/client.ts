// urql over the gateway: queries and mutations over HTTP, the subscription over graphql-ws, typed by
// GraphQL Code Generator from operations.graphql (see codegen.ts). Run: npx tsx examples/urql/client.ts
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { StartUnifyDocument, UnifyStatusDocument, WatchStatusDocument } from './generated/graphql.js';

const url = process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';
// Node 20 has no global WebSocket; in a browser leave webSocketImpl out.
const ws = createWsClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket });
const client = new Client({
  url,
  // urql sends queries as GET; the gateway wants a CSRF header on a GET (or send POSTs only).
  fetchOptions: { headers: { 'x-graphql-yoga-csrf': '1' } },
  exchanges: [
    cacheExchange,
    fetchExchange,
    subscriptionExchange({
      forwardSubscription: (request) => ({
        subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
      }),
    }),
  ],
});

const started = await client.mutation(StartUnifyDocument, { input: { possessionType: 'MOBILE', phoneNumber: '2001004014' } });
const result = started.data?.startUnify;
if (result?.__typename !== 'StartUnifyPayload') throw new Error(`start failed: ${JSON.stringify(result ?? started.error)}`);
const flowId = result.flow.id;

// The subscription first sends the flow as it stands (PENDING), then each change.
let watching!: () => void;
const subscribed = new Promise<void>((resolve) => (watching = resolve));
const final = new Promise<string>((resolve) => {
  const { unsubscribe } = client.subscription(WatchStatusDocument, { flowId }).subscribe(({ data }) => {
    const status = data?.unifyStatus;
    const state = status?.__typename === 'UnifyStatusPayload' ? status.flow.state : status?.code;
    if (state === 'PENDING') (console.log('live: PENDING'), watching());
    else if (state) (unsubscribe(), resolve(state));
  });
});
await subscribed;

// … hand result.authToken to the device's Prove client SDK; here the embedded emulator plays it …
await fetch(new URL('/prove-emulator/sim/authenticate', url), {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ authToken: result.authToken, otp: '1234' }),
});
// AuthFinishStep: ask once, past the cache.
const status = await client.query(UnifyStatusDocument, { flowId }, { requestPolicy: 'network-only' });
console.log(`status: ${status.data?.unifyStatus.__typename}`);
console.log(`live: ${await final}`);
await ws.dispose();
