import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionArgs, type ExecutionResult, type OperationTypeNode } from 'graphql';
import type { GraphQLContext } from '../schema/index.js';
import type { ServerContext } from './context.js';
import type { GatewayYoga } from './yoga.js';
import { resolveDocument, type TrustedDocuments } from './trusted-documents.js';

/**
 * The one operation runner: parse -> validate -> context -> execute | subscribe, each through the
 * envelope yoga builds (`yoga.getEnveloped`), so every plugin in src/graphql/yoga.ts (limits,
 * introspection, suggestions, masking and its error logs, metrics, tracing) acts once on every
 * operation, whichever transport carried it: yoga's own HTTP layer (GET, SSE, browsers), the
 * node:http JSON transport (src/transport/http-json.ts) and graphql-ws (src/transport/ws.ts).
 * It is yoga's own processRequest, split in two so that graphql-ws can decide between preparing
 * and running an operation (draining, live limits).
 */

/** The parameters of one operation, as a client sends them (HTTP body, graphql-ws subscribe payload). */
export interface OperationParams {
  query?: string | undefined;
  /** A trusted document's id instead of `query` (src/graphql/trusted-documents.ts; the APQ extension works too). */
  documentId?: unknown;
  variables?: Record<string, unknown> | null | undefined;
  operationName?: string | null | undefined;
  extensions?: Record<string, unknown> | null | undefined;
}

export type OperationResult = ExecutionResult | AsyncIterable<ExecutionResult>;

/** What an HTTP transport other than yoga's tells yoga's own plugins of its request (they read its method). */
export interface HttpRequestView {
  readonly method: string;
}

/**
 * What the transport hands the envelope: the context of src/graphql/context.ts, and for HTTP the
 * request's view. A new object per operation: it becomes the operation's context itself, the
 * runner adding `params` to it, since a copy (a spread) costs on every operation and makes the
 * context dearer to extend and read for every plugin and resolver after it.
 */
export type OperationServerContext = ServerContext & { request?: HttpRequestView; params?: OperationParams };

/**
 * Asked for the context's signal only when the operation is a subscription (the one reader of the
 * signal: FlowService.watch), so queries and mutations make no AbortController.
 */
export type SignalForSubscription = () => AbortSignal;

/** An operation refused before it ran (parse, validation or context): its errors, as the plugins left them. */
export interface RefusedOperation {
  readonly refused: readonly GraphQLError[];
}

/** An operation ready to run: run() executes or subscribes, once. */
export interface ReadyOperation {
  readonly refused?: undefined;
  /** The selected operation's type (undefined when the document names no such operation: execution says so). */
  readonly type: OperationTypeNode | undefined;
  readonly document: DocumentNode;
  readonly contextValue: GraphQLContext;
  readonly args: ExecutionArgs;
  run(): Promise<OperationResult>;
}

export type PreparedOperation = RefusedOperation | ReadyOperation;

export interface OperationRunner {
  /** Parses, validates and builds the context; an error thrown that is not a GraphQLError is not expected and propagates. */
  prepare(params: OperationParams, server: OperationServerContext, signalForSubscription?: SignalForSubscription): Promise<PreparedOperation>;
  /** prepare() and run(): a refused operation is answered `{ errors }`, as yoga answers it. */
  run(params: OperationParams, server: OperationServerContext, signalForSubscription?: SignalForSubscription): Promise<OperationResult>;
}

const refusedBy = (error: unknown): RefusedOperation => {
  if (error instanceof GraphQLError) return { refused: [error] };
  throw error;
};

export interface OperationRunnerOptions {
  /** Trusted documents: an operation may name one by id (TRUSTED_DOCUMENTS); absent: texts only. */
  documents?: TrustedDocuments;
}

export function createOperationRunner(yoga: GatewayYoga, { documents }: OperationRunnerOptions = {}): OperationRunner {
  const prepare = async (params: OperationParams, initialContext: OperationServerContext, signalForSubscription?: SignalForSubscription): Promise<PreparedOperation> => {
    initialContext.params = params;
    const envelope = yoga.getEnveloped(initialContext as never);
    let document: DocumentNode;
    try {
      // Ids become texts before the pipeline's parse, whose gate (TRUSTED_DOCUMENTS_ONLY) sees what runs.
      document = envelope.parse(documents ? resolveDocument(documents, params) : params.query);
    } catch (error) {
      return refusedBy(error);
    }
    const errors = envelope.validate(envelope.schema, document);
    if (errors.length) return { refused: errors };
    const type = getOperationAST(document, params.operationName)?.operation;
    if (type === 'subscription' && signalForSubscription) initialContext.signal = signalForSubscription();
    let contextValue: GraphQLContext;
    try {
      // The masking plugin has already masked anything unexpected the context factory threw.
      contextValue = (await envelope.contextFactory()) as GraphQLContext;
    } catch (error) {
      return refusedBy(error);
    }
    const args: ExecutionArgs = {
      schema: envelope.schema,
      document,
      contextValue,
      variableValues: params.variables ?? undefined,
      operationName: params.operationName ?? undefined,
    };
    const operate = type === 'subscription' ? envelope.subscribe : envelope.execute;
    return {
      type,
      document,
      contextValue,
      args,
      run: async () => (await operate(args)) as OperationResult,
    };
  };
  return {
    prepare,
    async run(params, server, signalForSubscription) {
      const prepared = await prepare(params, server, signalForSubscription);
      return prepared.refused ? { errors: prepared.refused } : prepared.run();
    },
  };
}
