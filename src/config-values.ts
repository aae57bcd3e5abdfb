/**
 * The shapes a variable's text may take (durations, limits, lists) and the error that gathers
 * every problem found: what src/config.ts reads the environment with.
 */

export interface Limit {
  count: number;
  windowMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "10m", "30s", "500ms", "1h", or a bare number of seconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNITS[match[2] ?? 's']!;
}

/** "3/10m" -> 3 per 10 minutes. */
export function parseLimit(text: string): Limit | undefined {
  const [count, window] = text.split('/');
  if (!count || !window || !/^\d+$/.test(count)) return undefined;
  const windowMs = parseDuration(window);
  if (!windowMs || Number(count) < 1) return undefined;
  return { count: Number(count), windowMs };
}

/** A comma-separated variable's entries, trimmed, empty ones dropped. */
export const list = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
