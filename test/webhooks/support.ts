import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';
import { eventually } from '../live/support.js';
import type { Receiver } from './receiver.js';

/** Short retry schedules for tests: the same code paths as the day-long default, in milliseconds. */
export const FAST_RETRIES = {
  WEBHOOK_RETRY_DELAY: '20ms',
  WEBHOOK_RETRY_MAX_DELAY: '100ms',
  WEBHOOK_TIMEOUT: '2s',
};

/** A logger whose lines a test can read (info and up, JSON). */
export function capturedLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger('info', sink), lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, any>) };
}

/** Waits until the receiver accepted `count` events (bounded), and returns them. */
export async function acceptedEvents(receiver: Receiver, count: number, timeoutMs = 10_000) {
  await eventually(() => receiver.accepted().length >= count, `${count} accepted webhooks (have ${receiver.accepted().length})`, timeoutMs);
  return receiver.accepted();
}

/** One sample of a metric from the Prometheus text, or undefined. */
export async function metric(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((w) => line.includes(w))) return Number(line.split(' ').at(-1));
  }
  return undefined;
}
