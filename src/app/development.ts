import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';

/**
 * `npm start` on a laptop: what a newcomer needs so nothing gets in the way while trying the
 * gateway with its embedded emulator. Only when NODE_ENV is development (its default); never in
 * production or test, and nothing a variable sets explicitly is changed.
 * - No GATEWAY_API_KEYS: a random key for this run, printed in the banner, so bindPhone and
 *   GraphiQL's Bind work at once.
 * - The embedded emulator and no START_LIMIT_*: limits loose enough for trying the sandbox numbers
 *   again and again (the production defaults, 3 per number in 10 minutes, lock a walkthrough out).
 */

export const DEVELOPMENT_LIMITS = {
  perNumber: { count: 20, windowMs: 60_000 },
  perNumberAll: { count: 100, windowMs: 60_000 },
  perNumberTrusted: { count: 100, windowMs: 60_000 },
  perAddress: { count: 100, windowMs: 60_000 },
} as const;

export interface DevelopmentStart {
  config: Config;
  /** The key made for this run, when GATEWAY_API_KEYS was unset. */
  apiKey?: string;
  relaxedLimits: boolean;
}

export function developmentDefaults(config: Config, env: NodeJS.ProcessEnv): DevelopmentStart {
  if (config.production || (env.NODE_ENV ?? 'development') !== 'development') return { config, relaxedLimits: false };
  const apiKey = config.apiKeys.length === 0 ? `dev-${randomBytes(18).toString('base64url')}` : undefined;
  const relax = config.proveRegions.mode === 'emulator';
  return {
    config: {
      ...config,
      ...(apiKey && { apiKeys: [apiKey] }),
      ...(relax && !env.START_LIMIT_PER_NUMBER && { startLimitPerNumber: { ...DEVELOPMENT_LIMITS.perNumber } }),
      ...(relax && !env.START_LIMIT_PER_NUMBER_ALL && { startLimitPerNumberAll: { ...DEVELOPMENT_LIMITS.perNumberAll } }),
      ...(relax && !env.START_LIMIT_PER_NUMBER_TRUSTED && { startLimitPerNumberTrusted: { ...DEVELOPMENT_LIMITS.perNumberTrusted } }),
      ...(relax && !env.START_LIMIT_PER_ADDRESS && { startLimitPerAddress: { ...DEVELOPMENT_LIMITS.perAddress } }),
    },
    ...(apiKey && { apiKey }),
    relaxedLimits: relax && !(env.START_LIMIT_PER_NUMBER && env.START_LIMIT_PER_ADDRESS),
  };
}

/** The banner's lines for what developmentDefaults changed. */
export function developmentBanner(start: DevelopmentStart): string[] {
  const lines: string[] = [];
  if (start.apiKey) {
    lines.push(`Development API key (GATEWAY_API_KEYS is unset; made for this run only, never in production): ${start.apiKey}`);
    lines.push(`  use it as Authorization: Bearer ${start.apiKey} (bindPhone, revokeDevice; GraphiQL's Headers pane)`);
  }
  if (start.relaxedLimits) {
    const { startLimitPerNumber: perNumber, startLimitPerAddress: perAddress } = start.config;
    const window = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);
    lines.push(
      `Development send limits with the emulator: ${perNumber.count}/${window(perNumber.windowMs)} per number and address, ` +
        `${perAddress.count}/${window(perAddress.windowMs)} per address (START_LIMIT_PER_NUMBER, START_LIMIT_PER_ADDRESS; ` +
        'the defaults elsewhere are 3/10m and 20/1m)',
    );
  }
  return lines;
}
