import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { isTerminal } from '../../src/flows/state-machine.js';
import type { FlowState } from '../../src/flows/flow.js';
import { wsUrl } from '../live/support.js';
import { post, sleep } from './support.js';

/**
 * Front ends as a well-behaved client writes them, for the chaos suites: each talks to its own
 * instance and moves to another one when its instance stops answering; a start that fails
 * retryably is sent again with the same clientRequestId; a status call is repeated until the flow
 * is final; a subscription that ends without a final state (socket gone, the store away) is opened
 * again, on whichever instance answers, and counts as the same subscriber.
 */

export interface Instance {
  name: string;
  graphqlUrl: string;
  /** False once the test killed it: front ends stop choosing it. */
  alive: boolean;
}

const START = `mutation($input: StartUnifyInput!) { startUnify(input: $input) {
  __typename ... on StartUnifyPayload { authToken flow { id state } }
  ... on Error { code message } ... on UpstreamError { retryable } } }`;
const STATUS = `query($flowId: ID!) { unifyStatus(flowId: $flowId) {
  __typename ... on UnifyStatusPayload { flow { id state } }
  ... on Error { code message } ... on UpstreamError { retryable } } }`;
const WATCH = `subscription($flowId: ID!) { unifyStatus(flowId: $flowId) {
  __typename ... on UnifyStatusPayload { flow { id state } }
  ... on Error { code message } ... on UpstreamError { retryable } } }`;

type Answer = { __typename: string; flow?: { id: string; state: FlowState }; authToken?: string; retryable?: boolean; message?: string };

/** Error events a subscription may end with that are final states of the flow, not failures of the stream. */
const FINAL_ERRORS = new Set(['PossessionFailedError', 'FlowExpiredError', 'ProveKeyMismatchError']);

export type StartOutcome =
  | { kind: 'flow'; flowId: string; authToken: string; attempts: number }
  /** "It may have sent the SMS": unify went out and its answer never came; not sent again. */
  | { kind: 'unknown'; attempts: number }
  | { kind: 'failed'; answer: string; attempts: number };

export interface Followed {
  /** Every event's state (a flow state, or a typed error's name), across resubscriptions. */
  events: string[];
  /** Final states among them (a terminal flow state or a final typed error). */
  finals: string[];
  subscriptions: number;
  /** Set when the subscriber gave up or heard something it must never hear (FlowNotFoundError). */
  problem?: string;
}

export class FrontEnds {
  readonly #clients = new Map<string, Client>();
  /** unifyStatus answers that were a flow not final yet (asked after the device finished: stale). */
  pendingAnswers = 0;

  constructor(readonly instances: Instance[], private readonly deadlineMs = 90_000) {}

  /** The i-th front end's instance: its own while alive, another one otherwise. */
  pick(i: number, attempt = 0): Instance {
    const alive = this.instances.filter((instance) => instance.alive);
    const own = this.instances[i % this.instances.length]!;
    return own.alive ? own : alive[(i + attempt) % alive.length]!;
  }

  async start(i: number, input: Record<string, unknown>): Promise<StartOutcome> {
    const until = Date.now() + this.deadlineMs;
    for (let attempts = 1; ; attempts++) {
      const answer = await this.#mutate<Answer>(i, attempts, START, { input }, 'startUnify');
      if (answer?.__typename === 'StartUnifyPayload') return { kind: 'flow', flowId: answer.flow!.id, authToken: answer.authToken!, attempts };
      if (answer?.__typename === 'UpstreamError' && answer.retryable === false && /may have sent the SMS/.test(answer.message ?? '')) {
        return { kind: 'unknown', attempts };
      }
      const retryable = answer === undefined || (answer.__typename === 'UpstreamError' && answer.retryable);
      if (!retryable || Date.now() > until) return { kind: 'failed', answer: JSON.stringify(answer), attempts };
      await sleep(Math.min(100 * attempts, 1_000));
    }
  }

  /** unifyStatus until the flow is final; the final state, or what stopped it. */
  async statusUntilFinal(i: number, flowId: string): Promise<string> {
    const until = Date.now() + this.deadlineMs;
    for (let attempts = 1; ; attempts++) {
      const answer = await this.#mutate<Answer>(i, attempts, STATUS, { flowId }, 'unifyStatus');
      if (answer?.__typename === 'UnifyStatusPayload' && isTerminal(answer.flow!.state)) return answer.flow!.state;
      if (answer?.__typename === 'UnifyStatusPayload') this.pendingAnswers++;
      if (answer && FINAL_ERRORS.has(answer.__typename)) return answer.__typename;
      const retryable = answer === undefined || answer.__typename === 'UnifyStatusPayload' || (answer.__typename === 'UpstreamError' && answer.retryable);
      if (!retryable || Date.now() > until) return `gave up: ${JSON.stringify(answer)}`;
      await sleep(Math.min(100 * attempts, 1_000));
    }
  }

  /**
   * One subscriber on a flow until it has a final state. `onFirst` resolves once the first
   * subscription delivered anything (the subscriber is in place).
   */
  follow(i: number, flowId: string): { first: Promise<void>; done: Promise<Followed> } {
    let firstSeen!: () => void;
    const first = new Promise<void>((resolve) => (firstSeen = resolve));
    const done = (async (): Promise<Followed> => {
      const followed: Followed = { events: [], finals: [], subscriptions: 0 };
      const until = Date.now() + this.deadlineMs;
      for (let attempt = 0; followed.finals.length === 0; attempt++) {
        if (Date.now() > until) {
          followed.problem = `no final state within ${this.deadlineMs} ms: [${followed.events}]`;
          break;
        }
        followed.subscriptions++;
        const ended = await this.#subscribeOnce(this.pick(i, attempt), flowId, (state) => {
          followed.events.push(state);
          firstSeen();
          if (state === 'FlowNotFoundError') followed.problem = 'FlowNotFoundError';
        });
        // GraphQL errors instead of an event: the operation itself was refused, which no retry mends.
        if (Array.isArray(ended)) followed.problem = `refused: ${JSON.stringify(ended)}`;
        followed.finals = followed.events.filter((state) => FINAL_ERRORS.has(state) || (/^[A-Z_]+$/.test(state) && isTerminal(state as FlowState)));
        if (followed.problem) break;
        if (followed.finals.length === 0 && ended !== 'complete') await sleep(Math.min(200 * (attempt + 1), 1_000));
      }
      firstSeen();
      return followed;
    })();
    return { first, done };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((client) => client.dispose()));
  }

  /** One subscription until the server completes it or it fails; every event's state goes to onState. */
  #subscribeOnce(instance: Instance, flowId: string, onState: (state: string) => void): Promise<'complete' | 'closed' | unknown[]> {
    return new Promise((resolve) => {
      this.#client(instance).subscribe<{ unifyStatus: Answer }>(
        { query: WATCH, variables: { flowId } },
        {
          next: ({ data }) => {
            const event = data?.unifyStatus;
            if (event) onState(event.__typename === 'UnifyStatusPayload' ? event.flow!.state : event.__typename);
          },
          error: (error: unknown) => resolve(Array.isArray(error) ? error : 'closed'),
          complete: () => resolve('complete'),
        },
      );
    });
  }

  #client(instance: Instance): Client {
    let client = this.#clients.get(instance.name);
    if (!client) {
      client = createClient({ url: wsUrl(instance.graphqlUrl), webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
      // A client whose socket went away is replaced, so the next subscription opens a new one.
      const made = client;
      made.on('closed', () => {
        if (this.#clients.get(instance.name) === made) this.#clients.delete(instance.name);
      });
      this.#clients.set(instance.name, client);
    }
    return client;
  }

  /** A mutation's field, or undefined when the instance did not answer (connection lost, 503 while draining). */
  async #mutate<T>(i: number, attempt: number, query: string, variables: Record<string, unknown>, field: string): Promise<T | undefined> {
    try {
      const { status, body } = await post(this.pick(i, attempt).graphqlUrl, query, variables);
      if (status !== 200) return undefined;
      // A refused operation (GraphQL errors, no data) is not retried: no retry mends it.
      return (body?.data?.[field] ?? { __typename: 'GraphQLErrors', message: JSON.stringify(body?.errors) }) as T;
    } catch {
      return undefined;
    }
  }
}
