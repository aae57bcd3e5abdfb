import { writeHeapSnapshot } from 'node:v8';

/**
 * The child side of bench/lib/children.ts: announce readiness, answer commands over IPC, and on
 * SIGTERM close and exit normally (so `--cpu-prof` writes its profile).
 */

export type Handler = (args: Record<string, unknown>) => unknown;

export const args: Record<string, unknown> = JSON.parse(process.env.BENCH_ARGS ?? '{}');

const common: Record<string, Handler> = {
  usage: () => ({ rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed, cpu: process.cpuUsage() }),
  /** Writes a heap snapshot (for finding what a subscription costs); returns its path. */
  heapSnapshot: ({ path }) => writeHeapSnapshot(typeof path === 'string' ? path : undefined),
  gc: () => {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage().rss;
  },
};

export function serve(info: Record<string, unknown>, handlers: Record<string, Handler>, close: () => Promise<void>): void {
  const all = { ...common, ...handlers };
  process.on('message', (message: { id: number; command: string; args: Record<string, unknown> }) => {
    const handler = all[message.command];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${message.command}`);
        return handler(message.args ?? {});
      })
      .then(
        (value) => process.send?.({ id: message.id, ok: true, value }),
        (error: Error) => process.send?.({ id: message.id, ok: false, error: error.message }),
      );
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 5_000);
    force.unref();
    void close()
      .catch(() => {})
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The parent went away (crash, kill -9): do not linger.
  process.on('disconnect', stop);
  process.send?.({ ready: info });
}
