import { z } from 'zod';
import { PROVE_SERVERS, isProveEnv } from './servers.js';
import { PROVE_REGIONS, isProveRegion, serverOf, type ProveMode, type ProveRegion, type RegionTarget } from './regions.js';

/**
 * The Prove part of the environment: which regions this gateway serves, where, with which
 * credentials. The single-region variables (PROVE_CLIENT_ID/SECRET with PROVE_ENV or PROVE_BASE_URL)
 * keep working and serve the default region; PROVE_US_* and PROVE_EU_* add a region each.
 */

export const PROVE_REGION_VARIABLES = [
  'PROVE_ENV', 'PROVE_BASE_URL', 'PROVE_CLIENT_ID', 'PROVE_CLIENT_SECRET', 'PROVE_DEFAULT_REGION',
  'PROVE_US_CLIENT_ID', 'PROVE_US_CLIENT_SECRET', 'PROVE_US_BASE_URL',
  'PROVE_EU_CLIENT_ID', 'PROVE_EU_CLIENT_SECRET', 'PROVE_EU_BASE_URL',
] as const;

export interface ProveRegions {
  /** 'emulator': no credentials at all, both regions served by the embedded emulator. */
  mode: 'emulator' | 'remote';
  /** Phone-less starts without an explicit region go here; the single-region variables serve it. */
  defaultRegion: ProveRegion;
  /** The regions with credentials (remote), or both (emulator). Never empty. */
  targets: Partial<Record<ProveRegion, RegionTarget>>;
  /** Prove's sandbox (UAT) or the emulator: its test numbers are accepted. */
  sandbox: boolean;
}

type Env = Record<string, string | undefined>;

const EMULATOR_CREDENTIALS = { clientId: 'emulator-client', clientSecret: 'emulator-secret' };

export function readProveRegions(env: Env, production: boolean, bad: (name: string, why: string) => void): ProveRegions {
  const url = (name: string) => {
    const value = env[name];
    if (value && !z.string().url().safeParse(value).success) bad(name, 'must be an absolute URL');
    return value || undefined;
  };
  const pair = (id: string, secret: string) => {
    const clientId = env[id] ?? '';
    const clientSecret = env[secret] ?? '';
    if (Boolean(clientId) !== Boolean(clientSecret)) bad(clientId ? secret : id, `${id} and ${secret} go together`);
    return clientId && clientSecret ? { clientId, clientSecret } : undefined;
  };

  // PROVE_ENV: sandbox | production for every region, or one of Prove's four hosts (single region).
  const proveEnv = env.PROVE_ENV || undefined;
  let mode: ProveMode | undefined;
  let hostRegion: ProveRegion | undefined;
  if (proveEnv === 'sandbox' || proveEnv === 'production') mode = proveEnv;
  else if (proveEnv && isProveEnv(proveEnv)) {
    mode = proveEnv.startsWith('prod') ? 'production' : 'sandbox';
    hostRegion = proveEnv.endsWith('-eu') ? 'eu' : 'us';
  } else if (proveEnv) {
    bad('PROVE_ENV', `must be sandbox, production or one of ${Object.keys(PROVE_SERVERS).join(', ')}, got "${proveEnv}"`);
  }
  const baseUrl = url('PROVE_BASE_URL');
  if (hostRegion && baseUrl) bad('PROVE_BASE_URL', 'set either PROVE_ENV or PROVE_BASE_URL, not both');

  const named = env.PROVE_DEFAULT_REGION || undefined;
  if (named && !isProveRegion(named)) bad('PROVE_DEFAULT_REGION', `must be us or eu, got "${named}"`);
  const chosen = named && isProveRegion(named) ? named : undefined;
  if (chosen && hostRegion && chosen !== hostRegion) {
    bad('PROVE_DEFAULT_REGION', `PROVE_ENV=${proveEnv} already makes ${hostRegion} the default region (the one PROVE_CLIENT_ID serves)`);
  }

  const single = pair('PROVE_CLIENT_ID', 'PROVE_CLIENT_SECRET');
  const regional = Object.fromEntries(
    PROVE_REGIONS.map((region) => {
      const R = region.toUpperCase();
      const credentials = pair(`PROVE_${R}_CLIENT_ID`, `PROVE_${R}_CLIENT_SECRET`);
      const serverURL = url(`PROVE_${R}_BASE_URL`);
      if (serverURL && !credentials) bad(`PROVE_${R}_BASE_URL`, `needs PROVE_${R}_CLIENT_ID and PROVE_${R}_CLIENT_SECRET`);
      return [region, credentials && { ...credentials, serverURL }];
    }),
  ) as Partial<Record<ProveRegion, { clientId: string; clientSecret: string; serverURL: string | undefined }>>;

  const only = PROVE_REGIONS.filter((region) => regional[region]);
  // The single-region variables serve the default region, so it is theirs when they name one.
  const defaultRegion: ProveRegion = chosen ?? hostRegion ?? (!single && only.length === 1 ? only[0]! : 'us');

  const targets: Partial<Record<ProveRegion, RegionTarget>> = {};
  const missingHost = (variable: string) =>
    bad('PROVE_ENV', `is required with Prove credentials (sandbox, production, or one of uat-us, prod-us, uat-eu, prod-eu) unless ${variable} is set`);
  if (single) {
    if (regional[defaultRegion]) {
      bad(`PROVE_${defaultRegion.toUpperCase()}_CLIENT_ID`, `PROVE_CLIENT_ID already serves the ${defaultRegion} region (the default region); set one of them`);
    }
    // The SDK would silently pick the US sandbox; the choice is made explicit instead.
    const serverURL = baseUrl ?? (proveEnv && isProveEnv(proveEnv) ? PROVE_SERVERS[proveEnv] : mode && serverOf(defaultRegion, mode));
    if (serverURL) targets[defaultRegion] = { serverURL, ...single };
    else missingHost('PROVE_BASE_URL');
  }
  for (const region of only) {
    const { serverURL, ...credentials } = regional[region]!;
    const resolved = serverURL ?? (mode && serverOf(region, mode));
    if (resolved) targets[region] ??= { serverURL: resolved, ...credentials };
    else missingHost(`PROVE_${region.toUpperCase()}_BASE_URL`);
  }

  const served = Object.keys(targets) as ProveRegion[];
  if (served.length === 0 && !single && only.length === 0) {
    if (production) {
      bad('PROVE_CLIENT_ID', 'production mode needs Prove credentials (PROVE_CLIENT_ID, PROVE_CLIENT_SECRET, PROVE_ENV, or PROVE_US_*/PROVE_EU_*); the emulator never runs in production');
    }
    return { mode: 'emulator', defaultRegion, targets: { us: { serverURL: '', ...EMULATOR_CREDENTIALS }, eu: { serverURL: '', ...EMULATOR_CREDENTIALS } }, sandbox: true };
  }
  if (served.length && !targets[defaultRegion]) {
    bad('PROVE_DEFAULT_REGION', `the default region (${defaultRegion}) has no credentials: set PROVE_${defaultRegion.toUpperCase()}_CLIENT_ID/SECRET or choose ${served.join(' or ')}`);
  }
  return { mode: 'remote', defaultRegion, targets, sandbox: mode !== 'production' };
}
