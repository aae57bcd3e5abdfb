/**
 * Injected failures for the next N calls of an endpoint: a status code (without performing the
 * call), latency, a hung response, a dropped connection, or the worst case for a caller: the call
 * performed (an SMS sent) and its answer dropped. This is how the gateway's timeouts,
 * retries and error mapping get exercised without a real outage.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Codes } from './errors.js';
import type { Door } from './regions.js';
import type { Endpoint, FaultSpec } from './validation.js';

type Reply = (status: number, body: unknown, headers?: Record<string, string>) => void;

export class FaultInjector {
  private readonly queues = new Map<Endpoint, Array<{ spec: FaultSpec; remaining: number }>>();
  /** Responses we deliberately never answer, and timers delaying others: close() ends them all. */
  private readonly hung = new Set<ServerResponse>();
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private closed = false;

  add(spec: FaultSpec): number {
    const queue = this.queues.get(spec.endpoint) ?? [];
    queue.push({ spec, remaining: spec.count });
    this.queues.set(spec.endpoint, queue);
    return queue.reduce((n, f) => n + f.remaining, 0);
  }

  clear(): void {
    this.queues.clear();
  }

  /** Takes the next fault for this endpoint and door, in the order they were added. */
  private take(endpoint: Endpoint, door: Door): FaultSpec | undefined {
    const queue = this.queues.get(endpoint);
    const index = queue?.findIndex((f) => f.spec.region === undefined || f.spec.region === door) ?? -1;
    const head = queue?.[index];
    if (!queue || !head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.splice(index, 1);
    return head.spec;
  }

  /**
   * Applies the next fault, if any. Returns true when the call has been dealt with (answered,
   * hung or dropped), 'drop-answer' when it should be performed and its answer dropped, and false
   * when it should now be performed normally.
   */
  async intercept(endpoint: Endpoint, door: Door, req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<boolean | 'drop-answer'> {
    const fault = this.take(endpoint, door);
    if (!fault) return false;
    if (fault.latencyMs) {
      await this.sleep(fault.latencyMs);
      if (this.closed || res.destroyed) {
        req.socket.destroy();
        return true;
      }
    }
    if (fault.hang) {
      this.hung.add(res);
      res.on('close', () => this.hung.delete(res));
      return true;
    }
    if (fault.drop) {
      req.socket.destroy();
      return true;
    }
    if (fault.status !== undefined) {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      reply(fault.status, fault.body ?? { code: Codes.internal, message: 'injected fault' }, headers);
      return true;
    }
    return fault.dropAnswer ? 'drop-answer' : false;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleepers.add(sleeper);
    });
  }

  /** Ends hung responses and pending delays so the process (and test runner) can exit. */
  close(): void {
    this.closed = true;
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.wake();
    }
    this.sleepers.clear();
    for (const res of this.hung) res.socket?.destroy();
    this.hung.clear();
  }
}
