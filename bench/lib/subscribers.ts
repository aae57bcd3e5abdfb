import WebSocket from 'ws';

/**
 * graphql-ws subscribers speaking the protocol directly (connection_init, subscribe, next) on
 * one WebSocket each, as browsers do: cheaper per socket than a full client, so 10,000 fit in
 * the bench process beside the server under test.
 */

export const WATCH = `subscription Watch($flowId: ID!) {
  unifyStatus(flowId: $flowId) {
    __typename
    ... on UnifyStatusPayload { flow { id state updatedAt } }
    ... on Error { code message }
  }
}`;

export interface Subscriber {
  socket: WebSocket;
  /** Messages received after the first (the flow as it stood). */
  updates: number;
  close(): void;
}

export interface SubscribeOptions {
  /** Called for each `next` after the first, with the receive time, the payload's flow.updatedAt (ms) and the flow's id. */
  onUpdate?: (receivedAt: number, updatedAt: number, flowId: string) => void;
}

/** Opens the socket, subscribes to the flow and resolves once its first `next` (the flow as it stands) arrived. */
export function subscribe(wsUrl: string, flowId: string, options: SubscribeOptions = {}): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { perMessageDeflate: false });
    const subscriber: Subscriber = { socket, updates: 0, close: () => socket.terminate() };
    let first = true;
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('subscription did not start within 30 s'));
    }, 30_000);
    socket.on('open', () => socket.send('{"type":"connection_init","payload":{}}'));
    socket.on('message', (data) => {
      const receivedAt = Date.now();
      const message = JSON.parse(String(data)) as { type: string; payload?: { data?: { unifyStatus?: { flow?: { updatedAt: string } } } } };
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: WATCH, variables: { flowId } } }));
      } else if (message.type === 'next') {
        if (first) {
          first = false;
          clearTimeout(timer);
          resolve(subscriber);
          return;
        }
        subscriber.updates++;
        const updatedAt = message.payload?.data?.unifyStatus?.flow?.updatedAt;
        if (updatedAt) options.onUpdate?.(receivedAt, Date.parse(updatedAt), flowId);
      } else if (message.type === 'error') {
        clearTimeout(timer);
        socket.terminate();
        reject(new Error(`subscription refused: ${JSON.stringify(message.payload)}`));
      } else if (message.type === 'ping') {
        socket.send('{"type":"pong"}');
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Opens `flowIds.length` subscribers, at most `parallel` handshakes at a time. */
export async function subscribeAll(wsUrl: string, flowIds: readonly string[], parallel: number, options: SubscribeOptions = {}): Promise<Subscriber[]> {
  const subscribers: Subscriber[] = new Array(flowIds.length);
  let next = 0;
  const worker = async () => {
    while (next < flowIds.length) {
      const i = next++;
      subscribers[i] = await subscribe(wsUrl, flowIds[i]!, options);
    }
  };
  try {
    await Promise.all(Array.from({ length: parallel }, worker));
  } catch (error) {
    for (const s of subscribers) s?.close();
    throw error;
  }
  return subscribers;
}
