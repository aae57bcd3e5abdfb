import type { IncomingMessage, ServerResponse } from 'node:http';
import { execute, getOperationAST, type DocumentNode, type ExecutionResult, type OperationDefinitionNode, type OperationTypeNode } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { createLRUCache, processRegularResult, type Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { UNEXPECTED_ERROR_MESSAGE, type GatewayMaskError, type GatewayYoga } from '../graphql/yoga.js';
import type { ServerContext } from '../graphql/context.js';
import { schema, type GraphQLContext } from '../schema/index.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { withoutSuggestion } from '../security/graphql-hardening.js';
import { paramsBoundsError } from '../security/request-bounds.js';
import { BoundedMemo, deepFreeze } from '../lib/bounded-memo.js';
import { FlowAnswers, flowIdOf, flowReadOf, versionOf, type FlowRead } from './flow-answers.js';

/**
 * A fast path for the operations known clients send over and over (the status page's `PageStatus`,
 * a backend's `Flow`, an app's `StartUnify`): the same documents, the same shape of request. It skips yoga's HTTP layer
 * (@whatwg-node's Request/Response, body and params parsing, result processing) and the envelop
 * pipeline per request, and serves the answer straight from node:http.
 *
 * It serves exactly one shape and nothing else; every other request falls through to yoga unchanged:
 * - `POST /graphql`, `content-type: application/json` (optionally `; charset=utf-8`), no `Origin`
 *   (browsers keep yoga's CORS, origin and CSRF checks), `accept` absent, `*\/*`, `application/json`
 *   or `application/graphql-response+json` (answered with the media type yoga would choose);
 * - a JSON body `{ query, variables?, operationName? }` (already capped at 64 KiB by readBodyWithin);
 * - a query string that yoga itself has already parsed AND validated for an HTTP request (learned by
 *   `plugin`, an envelop hook on yoga's own validation: graphql-armor's limits, introspection off in
 *   production and every other rule have passed exactly as on yoga's path; the first request of a
 *   document always goes through yoga), whose selected operation is a query or a mutation
 *   (subscriptions always take yoga's path). What yoga's plugins do per request beyond parsing and
 *   validation is done here too or does not apply to this shape: the Origin policy, CORS and CSRF
 *   concern browsers (which send Origin), masking and suggestion stripping are applied below, and
 *   the metrics are the same series. A document that never validated is never known: yoga answers
 *   it every time, with its errors and status.
 * - a caller the context factory accepts (a bad API key goes to yoga, which answers 401).
 *
 * Queries that only read (`flow(id)`) run as graphql-jit compiles them, and graphql-js executes
 * the rest, and again any jit read answered with errors (see jitFor and JIT_FIELDS), so every
 * answer is graphql-js's, byte for byte (test/fastpath).
 * Results are serialised as yoga's regular result processor does; a result with errors goes
 * through the gateway's masking (the same `maskError` yoga is given, src/graphql/yoga.ts), suggestion
 * stripping and `processRegularResult`. Anything that goes wrong past that is logged and answered
 * 500 with the masked message; it never becomes an unhandled rejection. If
 * execution never started (the variables did not coerce: no resolver ran), yoga answers instead.
 * The request is counted in the same Prometheus series a yoga request touches (metrics.ts).
 */

export interface KnownDocumentsOptions {
  /** The gateway's yoga (created after this: `plugin` goes into its plugin list). */
  yoga: () => GatewayYoga;
  /** The context factory yoga uses (src/graphql/context.ts): undefined for a caller yoga would refuse. */
  context: (server: ServerContext) => Promise<GraphQLContext | undefined>;
  metrics: GatewayMetrics;
  production: boolean;
  /** The masking yoga applies (src/graphql/yoga.ts createMaskError; src/app/gateway.ts hands both the same one). */
  maskError: GatewayMaskError;
  logger: Logger;
  /** Distinct documents remembered (default 500). */
  maxDocuments?: number;
  /** Longer documents are never remembered (default 16 KiB; real operations are 1–2 KiB). */
  maxDocumentLength?: number;
  /** Answers to `flow(id)` reads kept for reuse while their flow is unchanged (default 1000; 0: none). */
  maxFlowAnswers?: number;
  /** Called for each request this path answers (tests check which path served what); `reused` for a kept flow(id) answer. */
  onServed?: (how?: { reused: boolean }) => void;
}

interface Compiled {
  /** Tells documents apart in the keys of kept answers. */
  serial: number;
  document: DocumentNode;
  /** The `operationType` label @envelop/prometheus gives (the document's first operation). */
  envelopOperationType: OperationTypeNode;
  /** graphql-jit's compilation per operation name, for the operations that may use it (null: they may not). */
  jit?: Map<string | undefined, CompiledQuery | null>;
  /** Per operation name: where its one `flow(id)` read takes the id from (null: not such an operation). */
  flowRead?: Map<string | undefined, FlowRead | null>;
}

/** An operation of a known document: queries and mutations are served. */
interface Selected {
  compiled: Compiled;
  operation: OperationDefinitionNode;
  operationName: string | undefined;
  variables: Record<string, unknown> | undefined;
}

export interface KnownDocuments {
  /** Learns the documents yoga validates (put it in yoga's plugins). */
  plugin: Plugin;
  /** Serves the request when it is of the one known shape (true), or leaves it to yoga untouched (false). */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
}

const ACCEPTED: Record<string, string> = {
  '*/*': 'application/json',
  'application/json': 'application/json',
  'application/graphql-response+json': 'application/graphql-response+json',
};

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Root fields whose resolvers only read (the store), so that a read answered with errors can be
 * made again by graphql-js: `flow(id)` reads the stored flow (find() may store EXPIRED once, and a
 * second read finds it stored). `unifyStatus` calls Prove and never takes jit.
 */
const JIT_FIELDS = new Set(['flow', '__typename']);

/** graphql-jit's compiled operation, or undefined where graphql-js must execute it. */
function jitFor(compiled: Compiled, operation: OperationDefinitionNode, operationName: string | undefined): CompiledQuery | undefined {
  compiled.jit ??= new Map();
  let jit = compiled.jit.get(operationName);
  if (jit === undefined) {
    const eligible =
      operation.operation === 'query' && operation.selectionSet.selections.every((s) => s.kind === 'Field' && JIT_FIELDS.has(s.name.value));
    let compiledQuery: CompiledQuery | null = null;
    if (eligible) {
      try {
        const c = compileQuery(schema, compiled.document, operationName);
        if (isCompiledQuery(c)) compiledQuery = c;
      } catch {
        // Not compiled: graphql-js executes it.
      }
    }
    compiled.jit.set(operationName, (jit = compiledQuery));
  }
  return jit ?? undefined;
}

function flowReadFor(compiled: Compiled, operation: OperationDefinitionNode, operationName: string | undefined): FlowRead | null {
  compiled.flowRead ??= new Map();
  let read = compiled.flowRead.get(operationName);
  if (read === undefined) compiled.flowRead.set(operationName, (read = operation.operation === 'query' ? flowReadOf(operation) : null));
  return read;
}

export function createKnownDocuments(options: KnownDocumentsOptions): KnownDocuments {
  const { metrics } = options;
  const maxLength = options.maxDocumentLength ?? 16 * 1024;
  // query string -> the document yoga parsed and validated from it.
  const documents = createLRUCache<Compiled>({ max: options.maxDocuments ?? 500 });
  const mask = (error: unknown) => options.maskError(error, UNEXPECTED_ERROR_MESSAGE);
  const answers = options.maxFlowAnswers === 0 ? undefined : new FlowAnswers(options.maxFlowAnswers);
  let serial = 0;

  const learn = (query: string, document: DocumentNode) => {
    if (query.length > maxLength || documents.get(query)) return;
    const first = document.definitions.find((d) => d.kind === 'OperationDefinition');
    if (first?.kind !== 'OperationDefinition') return;
    documents.set(query, { serial: serial++, document, envelopOperationType: first.operation });
  };
  const plugin: Plugin = {
    onValidate: ({ params, context }) => {
      // HTTP requests only (graphql-ws operations have no `request`), and only what validated.
      const { request, params: requestParams } = context as { request?: unknown; params?: { query?: unknown } };
      if (!request || typeof requestParams?.query !== 'string') return undefined;
      const query = requestParams.query;
      return ({ valid }) => {
        if (valid) learn(query, params.documentAST);
      };
    },
  };

  // A poll repeats its body byte for byte: the last query bodies selected keep their selection (the
  // variables frozen, as they are shared). Only selections of queries are kept: a body whose document
  // yoga has not validated yet is looked at afresh every time, until it is known, and mutation bodies
  // (phone numbers, one-off inputs) are not polled and are not held in memory.
  const selections = new BoundedMemo<Selected | undefined>(
    (text) => selectFresh(text),
    512,
    (selected) => selected?.operation.operation === 'query',
  );
  const select = (body: Buffer): Selected | undefined => selections.get(body.toString('utf8'));
  const selectFresh = (text: string): Selected | undefined => {
    let params: unknown;
    try {
      params = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (!isPlainObject(params)) return undefined;
    const { query, variables, operationName } = params;
    for (const key in params) {
      if (key !== 'query' && key !== 'variables' && key !== 'operationName') return undefined;
    }
    if (typeof query !== 'string' || query.length > maxLength) return undefined;
    if (variables !== undefined && variables !== null && !isPlainObject(variables)) return undefined;
    // Measured before deepFreeze walks them: too deep or too large goes to yoga, which refuses it (400).
    if (paramsBoundsError({ variables })) return undefined;
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined;
    const compiled = documents.get(query);
    if (!compiled) return undefined;
    const operation = getOperationAST(compiled.document, operationName ?? undefined);
    if (!operation || (operation.operation !== 'query' && operation.operation !== 'mutation')) return undefined;
    return { compiled, operation, operationName: operationName ?? undefined, variables: deepFreeze(variables ?? undefined) };
  };

  const write = (res: ServerResponse, status: number, headers: Record<string, string>, body: string) => {
    if (res.destroyed || res.headersSent) return;
    headers['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(status, headers);
    res.end(body);
  };

  return {
    plugin,
    serve(req, res) {
      const yoga = options.yoga();
      if (req.method !== 'POST' || req.url !== yoga.graphqlEndpoint) return false;
      const { headers } = req;
      if (headers.origin !== undefined) return false;
      const contentType = headers['content-type']?.toLowerCase();
      if (contentType !== 'application/json' && contentType !== 'application/json; charset=utf-8') return false;
      const mediaType = headers.accept === undefined ? 'application/json' : ACCEPTED[headers.accept];
      if (!mediaType) return false;
      const body = (req as IncomingMessage & { body?: unknown }).body;
      if (!Buffer.isBuffer(body)) return false;
      const started = performance.now();
      const selected = select(body);
      if (!selected) return false;
      run(yoga, req, res, selected, mediaType, started).catch((error: unknown) => {
        // Not expected (run answers its own failures): log it, answer 500 masked, never crash.
        options.logger.error({ err: { message: (error as Error | undefined)?.message, name: (error as Error | undefined)?.name } }, 'known-documents fast path failed');
        if (res.headersSent) return void res.destroy();
        write(res, 500, { 'content-type': `${mediaType}; charset=utf-8` }, JSON.stringify({ errors: [{ message: UNEXPECTED_ERROR_MESSAGE }] }));
      });
      return true;
    },
  };

  async function run(
    yoga: GatewayYoga,
    req: IncomingMessage,
    res: ServerResponse,
    { compiled, operation, operationName, variables: variableValues }: Selected,
    mediaType: string,
    started: number,
  ) {
    // The request's own signal, as yoga's: aborted when the client goes away before the answer.
    // Made only when something reads it (no query resolver does today: the subscription's watch
    // is its one reader), so a request normally costs no AbortController and no close listener.
    let controller: AbortController | undefined;
    const onClose = () => {
      if (!res.writableFinished) controller!.abort();
    };
    const signal = () => {
      if (!controller) {
        controller = new AbortController();
        if (res.closed) onClose();
        else res.once('close', onClose);
      }
      return controller.signal;
    };
    let executing = false;
    // The same series a yoga request moves (metrics.ts), with this path's phase timings.
    const observe = (contextStarted: number, executeStarted: number, executed: number, statusCode: number, errors: number) =>
      metrics.observeFastQuery({
        operationType: operation.operation,
        envelopOperationType: compiled.envelopOperationType,
        contextSeconds: (executeStarted - contextStarted) / 1000,
        executeSeconds: (executed - executeStarted) / 1000,
        totalSeconds: (executed - started) / 1000,
        httpSeconds: (performance.now() - started) / 1000,
        statusCode,
        errors,
      });
    try {
      const contextStarted = performance.now();
      const contextValue = await options.context({ req });
      if (!contextValue) return void yoga.handle(req, res, { req });
      Object.defineProperty(contextValue, 'signal', { get: signal, enumerable: true, configurable: true });
      const executeStarted = performance.now();
      // A flow(id) read: the flow is read first, and an answer made from this very version of it is sent again.
      const read = answers && flowReadFor(compiled, operation, operationName);
      const id = read ? flowIdOf(read, variableValues) : undefined;
      let kept: { key: string; version: string } | undefined;
      if (id !== undefined) {
        // A failed read is left to execution, which reads again and answers with the error as usual.
        const flow = await contextValue.flows.find(id).catch(() => undefined);
        if (flow) {
          kept = { key: `${compiled.serial}\0${operationName ?? ''}\0${contextValue.caller.kind}\0${id}`, version: versionOf(flow) };
          const body = answers!.get(kept.key, kept.version);
          if (body !== undefined) {
            const answered = performance.now();
            write(res, 200, { 'content-type': `${mediaType}; charset=utf-8` }, body);
            options.onServed?.({ reused: true });
            return observe(contextStarted, executeStarted, answered, 200, 0);
          }
        }
      }
      executing = true;
      const graphqlJs = async () =>
        (await execute({ schema, document: compiled.document, contextValue, variableValues, operationName })) as ExecutionResult;
      const jit = jitFor(compiled, operation, operationName);
      let result = jit ? ((await jit.query(undefined, contextValue, variableValues ?? {})) as ExecutionResult) : await graphqlJs();
      // graphql-jit answers a successful read exactly as graphql-js does (test/fastpath), but not
      // one with errors (it completes every field before bubbling nulls, so it reports more of
      // them, and its own errors' words and locations differ): then the read is made again by
      // graphql-js, whose answer is sent. Only side-effect-free reads take jit (see JIT_FIELDS).
      if (jit && result.errors?.length) result = await graphqlJs();
      const executed = performance.now();
      // No resolver ran (the variables did not coerce): yoga answers, with its own words and status.
      if (result.errors?.length && !('data' in result)) return void yoga.handle(req, res, { req });
      let status = 200;
      let text: string;
      const headers: Record<string, string> = { 'content-type': `${mediaType}; charset=utf-8` };
      if (result.errors?.length) {
        result = {
          ...result,
          errors: result.errors.map((error) => {
            const m = mask(error);
            return options.production ? withoutSuggestion(m) : m;
          }),
        };
        const response = processRegularResult(result, yoga.fetchAPI, mediaType);
        status = response.status;
        text = await response.text();
        response.headers.forEach((value, key) => (headers[key] = value));
      } else {
        text = JSON.stringify(result);
        if (kept) answers!.set(kept.key, kept.version, text);
      }
      write(res, status, headers, text);
      options.onServed?.({ reused: false });
      observe(contextStarted, executeStarted, executed, status, result.errors?.length ?? 0);
    } catch (error) {
      // Not expected: execute reports resolver errors in its result. Before execution started,
      // yoga answers the request as if the fast path had never seen it; after, it must not run twice.
      if (!executing) return void yoga.handle(req, res, { req });
      write(res, 500, { 'content-type': `${mediaType}; charset=utf-8` }, JSON.stringify({ errors: [mask(error)] }));
    } finally {
      if (controller) res.off('close', onClose);
    }
  }
}
