import {
  execute, getArgumentValues, getOperationAST, getVariableValues, GraphQLError, type DocumentNode, type ExecutionArgs,
  type ExecutionResult, type FieldNode, type GraphQLField, type OperationDefinitionNode,
} from 'graphql';
import { wrapOrThrow } from '@pothos/plugin-errors';
import { schema, type GraphQLContext } from '../schema/index.js';
import { DONE } from '../flows/pull-iterator.js';
import { UNEXPECTED_ERROR_MESSAGE, type GatewayMaskError } from '../graphql/yoga.js';
import type { GatewayMetrics, SubscriptionSeries } from '../observability/metrics.js';

/**
 * A lean graphql-ws path for the one subscription clients hold open by the thousand:
 * `subscription { unifyStatus(flowId: …) { … } }` (the status page's PageWatch, test/documents'
 * WatchStatus, README's Watch). Through yoga, each such subscription keeps a chain of objects for
 * as long as it is open — yoga's envelope and context, @graphql-tools/executor's subscribe,
 * Pothos plugin-errors' async generator, envelop's onSubscribeResult wrappers (masking, metrics,
 * hidden suggestions) — about 15 KiB each, most of the memory 10,000 subscriptions cost. Here one
 * object per subscription drives the field's own subscribe (FlowService.watch) and makes each
 * `next` payload with graphql-js `execute` of the operation with the event as root value, which
 * is what a subscription's mapping does.
 *
 * Only what ws.ts has already parsed, validated and built a context for through yoga's envelope
 * (so graphql-armor's limits, introspection rules, the caller check and the parse/validate/context
 * metrics ran as before) comes here, and only when:
 * - the document holds exactly one operation, listed first (the operation @envelop/prometheus
 *   labels by), a subscription with no directives whose selection is the single field
 *   `unifyStatus` (aliased or not, no directives on it);
 * - its variables coerce and the field's arguments resolve (otherwise yoga answers, in its words).
 * Everything else takes yoga's path unchanged.
 *
 * What yoga's path does and this one keeps (test/fastpath/known-subscription.test.ts sends the same
 * subscriptions to gateways with and without it and compares every graphql-ws message):
 * - an error the field's subscribe throws becomes one last event when it is one of the field's
 *   typed errors (plugin-errors' wrapOrThrow and the field's own error list, as its
 *   wrapSubscribe does), and otherwise ends the stream with it;
 * - each result's errors go through the gateway's maskError, as yoga's masking does per event;
 * - the series yoga's path moves: unify_subscriptions_open while streaming; at the end
 *   graphql_envelop_phase_subscribe, _request_duration, _request; and
 *   graphql_envelop_error_result per error of an event (GatewayMetrics.subscriptionSeries).
 * And one thing it does better: return() (the client's complete, the socket's close) ends the
 * watch at once, without an AbortController per operation, since no async generator stands
 * between graphql-ws and the watch to hold it back.
 */

export interface KnownSubscriptionOptions {
  metrics: GatewayMetrics;
  /** The gateway's masking (src/graphql/yoga.ts createMaskError), the one yoga applies to each event. */
  maskError: GatewayMaskError;
  /** Called for each subscription this path takes (tests check which path served what). */
  onServed?: () => void;
}

/** What ws.ts hands over: an operation yoga's envelope has validated and built a context for. */
export interface ValidatedOperation {
  document: DocumentNode;
  operationName: string | null | undefined;
  variables: Record<string, unknown> | null | undefined;
  /** The context yoga's context factory made for this operation. */
  context: GraphQLContext;
}

export interface KnownSubscription {
  /**
   * Execution args for graphql-ws whose rootValue is this path's stream, or undefined: then the
   * operation takes yoga's path.
   */
  prepare(operation: ValidatedOperation): ExecutionArgs | undefined;
  /** The stream prepare() put in `args.rootValue`, or undefined for any other args. */
  streamOf(args: ExecutionArgs): AsyncIterableIterator<ExecutionResult> | undefined;
}

type SubscribeFn = (root: unknown, args: Record<string, unknown>, context: unknown, info: unknown) => unknown;

interface Plan {
  operation: OperationDefinitionNode;
  field: FieldNode;
}

const FIELD = 'unifyStatus';
const LABELS = { operationType: 'subscription' };
const ERROR_LABELS = { operationType: 'subscription', phase: 'execute' };

export function createKnownSubscription(options: KnownSubscriptionOptions): KnownSubscription {
  const fieldDef = schema.getSubscriptionType()?.getFields()[FIELD] as GraphQLField<unknown, unknown> | undefined;
  // The field as Pothos defined it: its own subscribe, before plugin-errors and scope-auth wrapped it.
  const subscribe = fieldDef?.extensions.pothosOriginalSubscribe as SubscribeFn | undefined;
  const errorTypes = fieldDef?.extensions.pothosErrors as (new (...args: never[]) => unknown)[] | undefined;
  // A field that gained scope checks (scope-auth runs them in its subscribe wrapper) must take yoga's path.
  const guarded = (fieldDef?.extensions.pothosOptions as Record<string, unknown> | undefined)?.authScopes !== undefined;
  const usable = !!fieldDef && !!subscribe && !!errorTypes && !guarded;

  // Per document (yoga's parse cache hands the same DocumentNode for the same text): its plan or null.
  const plans = new WeakMap<DocumentNode, Map<string | undefined, Plan | null>>();
  const planFor = (document: DocumentNode, operationName: string | undefined): Plan | undefined => {
    let byName = plans.get(document);
    if (!byName) plans.set(document, (byName = new Map()));
    let plan = byName.get(operationName);
    if (plan === undefined) byName.set(operationName, (plan = makePlan(document, operationName)));
    return plan ?? undefined;
  };

  const series = metricsOf(options.metrics);
  const shared: Shared = { subscribe: subscribe!, errorTypes: errorTypes!, maskError: options.maskError, series };

  return {
    prepare(op) {
      if (!usable) return undefined;
      const operationName = op.operationName ?? undefined;
      const plan = planFor(op.document, operationName);
      if (!plan) return undefined;
      const variableValues = op.variables ?? undefined;
      const coerced = getVariableValues(schema, plan.operation.variableDefinitions ?? [], variableValues ?? {}, { maxErrors: 50 });
      if (coerced.errors) return undefined;
      let args: Record<string, unknown>;
      try {
        args = getArgumentValues(fieldDef!, plan.field, coerced.coerced);
      } catch {
        return undefined;
      }
      // Only what the resolvers read: the caller and the flow service (no signal: return() ends the watch).
      const contextValue: GraphQLContext = { caller: op.context.caller, flows: op.context.flows };
      const executionArgs: ExecutionArgs = {
        schema,
        document: op.document,
        operationName: operationName ?? null,
        variableValues: variableValues ?? null,
        contextValue,
        rootValue: undefined,
      };
      executionArgs.rootValue = new KnownStatusStream(shared, executionArgs, args);
      options.onServed?.();
      return executionArgs;
    },
    streamOf(args) {
      const stream = args.rootValue;
      if (!(stream instanceof KnownStatusStream)) return undefined;
      stream.open();
      return stream;
    },
  };
}

function makePlan(document: DocumentNode, operationName: string | undefined): Plan | null {
  const operations = document.definitions.filter((d) => d.kind === 'OperationDefinition');
  if (operations.length !== 1 || document.definitions[0] !== operations[0]) return null;
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== 'subscription' || operation.directives?.length) return null;
  const [field, ...more] = operation.selectionSet.selections;
  if (more.length || field?.kind !== 'Field' || field.name.value !== FIELD || field.directives?.length) return null;
  return { operation, field };
}

interface Shared {
  subscribe: SubscribeFn;
  errorTypes: (new (...args: never[]) => unknown)[];
  maskError: GatewayMaskError;
  series: () => SubscriptionSeries;
}

/** The series, asked for once they exist (by the first subscription, after yoga's plugin has registered them). */
function metricsOf(metrics: GatewayMetrics): () => SubscriptionSeries {
  let found: SubscriptionSeries | undefined;
  return () => (found ??= metrics.subscriptionSeries());
}

/**
 * One subscription: the field's watch, each event executed into a result. The source is made on
 * the first next(), as plugin-errors' generator makes it, so a subscribe that throws becomes the
 * first event when its error is typed.
 *
 * Written with promise continuations rather than an async method: an idle subscription waits in
 * next() for as long as its flow is quiet, and an async frame (generator, registers, context) per
 * waiting subscription is memory 10,000 of them hold. While waiting it holds the watch's pending
 * next() and one derived promise.
 */
class KnownStatusStream implements AsyncIterableIterator<ExecutionResult> {
  #source: AsyncIterator<unknown> | undefined;
  /** 0 not started, 1 streaming, 2 a typed error was the last event, 3 ended. */
  #phase = 0;
  #subscribedAt = 0;
  /** The latest next() under way, and how many are: one called meanwhile (graphql-ws never does) waits for it. */
  #current: Promise<IteratorResult<ExecutionResult>> | undefined;
  #calls = 0;

  constructor(
    private readonly shared: Shared,
    private readonly args: ExecutionArgs,
    private readonly fieldArgs: Record<string, unknown>,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** graphql-ws took the stream (yoga's path counts the subscription open from here). */
  open(): void {
    this.#subscribedAt = Date.now();
    this.shared.series().open.inc();
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    this.#calls++;
    const current = this.#current;
    const run = current ? current.then(() => this.#pull(), () => this.#pull()) : this.#pull();
    this.#current = run;
    return run;
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    return Promise.reject(error);
  }

  #pull(): Promise<IteratorResult<ExecutionResult>> {
    if (this.#phase >= 2) return this.#done();
    let source = this.#source;
    if (!source) {
      this.#phase = 1;
      try {
        // The field's own subscribe reads its arguments and the context only (src/schema/status.ts).
        const made = this.shared.subscribe(undefined, this.fieldArgs, this.args.contextValue, undefined);
        if (isPromiseLike(made)) return Promise.resolve(made).then((started) => this.#started(started), (error: unknown) => this.#sourceFailed(error));
        source = this.#source = made as AsyncIterator<unknown>;
      } catch (error) {
        return this.#sourceFailed(error);
      }
    }
    return this.#nextOf(source);
  }

  #started(made: unknown): Promise<IteratorResult<ExecutionResult>> {
    if (this.#phase === 3) return this.#done();
    return this.#nextOf((this.#source = made as AsyncIterator<unknown>));
  }

  #nextOf(source: AsyncIterator<unknown>): Promise<IteratorResult<ExecutionResult>> {
    try {
      return source.next().then((next) => this.#sourceNext(next), (error: unknown) => this.#sourceFailed(error));
    } catch (error) {
      return this.#sourceFailed(error);
    }
  }

  #sourceNext(next: IteratorResult<unknown>): Promise<IteratorResult<ExecutionResult>> {
    return next.done || this.#phase === 3 ? this.#done() : this.#execute(next.value);
  }

  /** plugin-errors' rule: one of the field's typed errors is the last event; anything else ends the stream. */
  #sourceFailed(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.#source = undefined;
    if (this.#phase === 3) return this.#done();
    let event: unknown;
    try {
      event = wrapOrThrow(error, this.shared.errorTypes);
    } catch (untyped) {
      return this.#failed(untyped);
    }
    this.#phase = 2;
    return this.#execute(event);
  }

  #execute(event: unknown): Promise<IteratorResult<ExecutionResult>> {
    let executed;
    try {
      executed = execute({ ...this.args, rootValue: event });
    } catch (unexpected) {
      return this.#failed(unexpected);
    }
    return Promise.resolve(executed).then((result) => this.#executed(result), (unexpected: unknown) => this.#failed(unexpected));
  }

  #executed(result: ExecutionResult): IteratorResult<ExecutionResult> {
    this.#settled();
    if (this.#phase === 3) return DONE;
    return { done: false, value: this.#masked(result) };
  }

  #done(): Promise<IteratorResult<ExecutionResult>> {
    this.#settled();
    this.end();
    return Promise.resolve(DONE);
  }

  /** Each next() ends in exactly one of #executed, #done and #failed, which call this. */
  #settled(): void {
    if (--this.#calls === 0) this.#current = undefined;
  }

  #masked(result: ExecutionResult): ExecutionResult {
    if (!result.errors?.length) return result;
    const { errors } = this.shared.series();
    errors?.inc(ERROR_LABELS, result.errors.length);
    return { ...result, errors: result.errors.map((error) => this.shared.maskError(error, UNEXPECTED_ERROR_MESSAGE)) as GraphQLError[] };
  }

  /**
   * An error that is none of the field's typed errors ends the stream masked (graphql-ws sends it
   * as the operation's error message), as yoga's masking does with a stream's error. Unlike yoga's
   * path, whose onEnd hooks never run for a stream that threw (its open-subscriptions gauge stays
   * up, and it counts the error with phase="undefined"), the subscription is counted as ended and
   * the error as an execute-phase one.
   */
  #failed(error: unknown): Promise<never> {
    this.#settled();
    this.end();
    this.shared.series().errors?.inc(ERROR_LABELS);
    return Promise.reject(this.shared.maskError(error, UNEXPECTED_ERROR_MESSAGE));
  }

  /** Ends the watch and counts the subscription as yoga's path does when its stream ends. */
  private end(): void {
    if (this.#phase === 3) return;
    this.#phase = 3;
    const source = this.#source;
    this.#source = undefined;
    void source?.return?.()?.catch(() => {});
    if (this.#subscribedAt === 0) return;
    const series = this.shared.series();
    const now = Date.now();
    series.open.dec();
    series.subscribePhase?.observe(LABELS, (now - this.#subscribedAt) / 1000);
    series.duration?.observe(LABELS, (now - this.#subscribedAt) / 1000);
    series.requests?.inc(LABELS);
  }
}

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
