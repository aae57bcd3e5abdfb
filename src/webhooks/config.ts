/**
 * The webhook settings, read from the environment with the rest of the configuration (src/config.ts
 * calls readWebhookConfig and reports every problem at start, naming the variable).
 */

export interface RetrySchedule {
  /** The delay before the first retry; each later one doubles, up to maxDelayMs, with jitter. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Retries continue while the event is younger than this; the first failure after it gives up. */
  forMs: number;
}

export interface WebhookConfig {
  /** Each endpoint gets every event, independently of the others. */
  urls: string[];
  /** `whsec_<base64>`; every one signs (several during a rotation). */
  secrets: string[];
  /** One delivery attempt, connect to last byte. */
  timeoutMs: number;
  retry: RetrySchedule;
  /** Deliveries in flight at once per instance. */
  concurrency: number;
}

export const WEBHOOK_VARIABLES = [
  'WEBHOOK_URL', 'WEBHOOK_SECRET', 'WEBHOOK_TIMEOUT', 'WEBHOOK_RETRY_DELAY', 'WEBHOOK_RETRY_MAX_DELAY',
  'WEBHOOK_RETRY_FOR', 'WEBHOOK_ALLOW_HTTP', 'WEBHOOK_CONCURRENCY',
] as const;

export const WEBHOOK_DEFAULTS = {
  timeoutMs: 10_000,
  retry: { firstDelayMs: 5_000, maxDelayMs: 60 * 60_000, forMs: 24 * 60 * 60_000 },
  concurrency: 16,
} as const;

const DAY_MS = 24 * 60 * 60_000;

/** Standard Webhooks: `whsec_` and the base64 of 24 to 64 random bytes. */
const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

export interface ReadContext {
  production: boolean;
  parseDuration(text: string): number | undefined;
  bad(name: string, why: string): void;
}

const list = (text: string | undefined) =>
  (text ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** undefined when webhooks are off (no WEBHOOK_URL and no WEBHOOK_SECRET). */
export function readWebhookConfig(env: NodeJS.ProcessEnv, { production, parseDuration, bad }: ReadContext): WebhookConfig | undefined {
  const urls = list(env.WEBHOOK_URL);
  const secrets = list(env.WEBHOOK_SECRET);
  const allowHttp = env.WEBHOOK_ALLOW_HTTP ?? 'off';
  if (allowHttp !== 'on' && allowHttp !== 'off') bad('WEBHOOK_ALLOW_HTTP', `must be on or off, got "${allowHttp}"`);

  const duration = (name: string, fallback: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const parsed = parseDuration(raw);
    if (parsed === undefined || parsed < 1 || parsed > max) {
      bad(name, `must be a duration such as 500ms, 30s, 10m or 24h, at most ${max / 60_000} minutes, got "${raw}"`);
      return fallback;
    }
    return parsed;
  };
  const timeoutMs = duration('WEBHOOK_TIMEOUT', WEBHOOK_DEFAULTS.timeoutMs, 60_000);
  const firstDelayMs = duration('WEBHOOK_RETRY_DELAY', WEBHOOK_DEFAULTS.retry.firstDelayMs, DAY_MS);
  const maxDelayMs = duration('WEBHOOK_RETRY_MAX_DELAY', WEBHOOK_DEFAULTS.retry.maxDelayMs, DAY_MS);
  const forMs = duration('WEBHOOK_RETRY_FOR', WEBHOOK_DEFAULTS.retry.forMs, 7 * DAY_MS);
  if (maxDelayMs < firstDelayMs) bad('WEBHOOK_RETRY_MAX_DELAY', 'must not be shorter than WEBHOOK_RETRY_DELAY');

  let concurrency: number = WEBHOOK_DEFAULTS.concurrency;
  if (env.WEBHOOK_CONCURRENCY) {
    const raw = env.WEBHOOK_CONCURRENCY;
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 256) bad('WEBHOOK_CONCURRENCY', `must be a whole number from 1 to 256, got "${raw}"`);
    else concurrency = Number(raw);
  }

  if (!urls.length && !secrets.length) return undefined;
  if (!urls.length) bad('WEBHOOK_URL', 'is required with WEBHOOK_SECRET');
  if (!secrets.length) bad('WEBHOOK_SECRET', 'is required with WEBHOOK_URL: every webhook is signed');

  for (const url of urls) {
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
      bad('WEBHOOK_URL', `"${redactUrl(url)}" must be an absolute http(s) URL`);
    } else if (parsed.protocol === 'http:' && production && allowHttp !== 'on') {
      // Signed is not private: the payload carries a full phone number.
      bad('WEBHOOK_URL', `"${redactUrl(url)}" must be https in production (WEBHOOK_ALLOW_HTTP=on allows http, e.g. inside a private network)`);
    }
  }
  if (new Set(urls).size !== urls.length) bad('WEBHOOK_URL', 'lists the same URL twice');
  for (const secret of secrets) {
    const match = SECRET.exec(secret);
    const bytes = match ? Buffer.from(match[1]!, 'base64').length : 0;
    if (!match || bytes < 24 || bytes > 64) {
      bad('WEBHOOK_SECRET', 'every secret must be whsec_ followed by the base64 of 24 to 64 random bytes (e.g. `echo whsec_$(openssl rand -base64 32)`)');
      break;
    }
  }
  return { urls, secrets, timeoutMs, retry: { firstDelayMs, maxDelayMs, forMs }, concurrency };
}

/** An endpoint as logs and errors may show it: its origin only (a path or query may carry a token). */
export function redactUrl(url: string): string {
  return URL.canParse(url) ? new URL(url).origin : '(not a URL)';
}
