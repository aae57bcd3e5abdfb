import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { RedisClient } from '../store/redis-client.js';
import type { HttpDrain } from '../resilience/http-drain.js';
import type { ProveEmulator } from '../emulator/index.js';
import type { Store } from '../store/store.js';
import type { GraphqlWsServer } from '../transport/ws.js';
import type { Webhooks } from '../webhooks/index.js';

/** What a shutdown did: `drained` is false when the timeout cut requests or operations still running. */
export interface ShutdownReport {
  drained: boolean;
  /** HTTP requests and graphql-ws queries/mutations still running when the timeout cut them. */
  cut: number;
  ms: number;
}

export interface ShutdownParts {
  server: Server;
  drain: HttpDrain;
  ws: GraphqlWsServer;
  emulator: ProveEmulator | undefined;
  webhooks: Webhooks | undefined;
  store: Store;
  redis: { pub: RedisClient; sub: RedisClient } | undefined;
  logger: Logger;
  /** Sends the spans still buffered (src/observability/tracing.ts). */
  tracing?: { shutdown(): Promise<void> } | undefined;
}

/**
 * Graceful shutdown, once however often it is asked for: /ready answers 503 "draining" at once and
 * new work is refused; HTTP requests and graphql-ws operations in flight finish side by side
 * within one deadline; WebSockets close with 1001; then the port, the emulator, the store and Redis.
 */
export function createShutdown(parts: ShutdownParts): (timeoutMs: number) => Promise<ShutdownReport> {
  const { server, drain, ws, emulator, webhooks, store, redis, logger, tracing } = parts;
  let stopping: Promise<ShutdownReport> | undefined;
  const shutdown = async (timeoutMs: number): Promise<ShutdownReport> => {
    const started = Date.now();
    drain.begin();
    logger.info({ requests: drain.pending(), webSockets: ws.wss.clients.size, timeoutMs }, 'draining: refusing new work, finishing what is in flight');
    const [httpDone] = await Promise.all([drain.settled(timeoutMs), ws.close(1001, 'Server shutting down', timeoutMs)]);
    const cut = drain.pending() + ws.running();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await emulator?.close();
    // Webhook attempts in flight finish within what is left of the deadline (others retry them later).
    await webhooks?.close(Math.max(timeoutMs - (Date.now() - started), 1_000));
    await store.close();
    redis?.pub.disconnect();
    redis?.sub.disconnect();
    await tracing?.shutdown();
    const report: ShutdownReport = { drained: httpDone && cut === 0, cut, ms: Date.now() - started };
    if (report.drained) logger.info(report, 'drained and closed');
    else logger.warn(report, 'drain timeout: requests still in flight were cut');
    return report;
  };
  return (timeoutMs) => (stopping ??= shutdown(timeoutMs));
}
