import type { RetrySchedule } from './config.js';

/**
 * Exponential backoff with jitter: the ceiling doubles from the first delay up to the maximum, and
 * each delay is drawn from its upper half ("equal jitter"), so endpoints that failed together do
 * not all come back at the same instant, and no retry comes sooner than half its step.
 */
export function retryDelayMs(failedAttempts: number, schedule: RetrySchedule, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 40);
  const ceiling = Math.min(schedule.maxDelayMs, schedule.firstDelayMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Retries go on while the event is younger than the schedule's window: at least that long. */
export const retryWindowOver = (occurredAt: number, now: number, schedule: RetrySchedule): boolean => now - occurredAt >= schedule.forMs;
