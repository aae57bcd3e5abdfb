import { describe, expect, it } from 'vitest';
import { problemsOf } from '../support/config-problems.js';
import { loadConfig } from '../../src/config.js';

/** PROVE_ENV, the single-region variables and PROVE_US_* / PROVE_EU_*: which regions, where, with what. */


const US = { PROVE_US_CLIENT_ID: 'us-id', PROVE_US_CLIENT_SECRET: 'us-secret' };
const EU = { PROVE_EU_CLIENT_ID: 'eu-id', PROVE_EU_CLIENT_SECRET: 'eu-secret' };

describe('Prove regions in the configuration', () => {
  it('without credentials, the embedded emulator serves both regions', () => {
    const { proveRegions } = loadConfig({});
    expect(proveRegions).toMatchObject({ mode: 'emulator', defaultRegion: 'us', sandbox: true });
    expect(Object.keys(proveRegions.targets).sort()).toEqual(['eu', 'us']);
  });

  it('PROVE_ENV=sandbox|production picks both regions\' hosts', () => {
    const sandbox = loadConfig({ PROVE_ENV: 'sandbox', ...US, ...EU }).proveRegions;
    expect(sandbox).toMatchObject({
      mode: 'remote',
      sandbox: true,
      defaultRegion: 'us',
      targets: {
        us: { serverURL: 'https://platform.uat.proveapis.com', clientId: 'us-id', clientSecret: 'us-secret' },
        eu: { serverURL: 'https://platform.uat.eu.proveapis.com', clientId: 'eu-id', clientSecret: 'eu-secret' },
      },
    });
    const production = loadConfig({ NODE_ENV: 'production', PROVE_ENV: 'production', ...US, ...EU });
    expect(production.proveRegions.sandbox).toBe(false);
    expect(production.proveRegions.targets.us?.serverURL).toBe('https://platform.proveapis.com');
    expect(production.proveRegions.targets.eu?.serverURL).toBe('https://platform.eu.proveapis.com');
  });

  it('the single-region variables keep working, as the default region', () => {
    const old = loadConfig({ PROVE_ENV: 'uat-eu', PROVE_CLIENT_ID: 'a', PROVE_CLIENT_SECRET: 'b' });
    expect(old.proveRegions).toMatchObject({ defaultRegion: 'eu', targets: { eu: { serverURL: 'https://platform.uat.eu.proveapis.com', clientId: 'a' } } });
    expect(old.proveRegions.targets.us).toBeUndefined();
    expect(old.prove).toMatchObject({ mode: 'remote', serverURL: 'https://platform.uat.eu.proveapis.com', sandbox: true });

    // Beside a region of their own: PROVE_ENV=uat-us puts PROVE_CLIENT_ID in the US, PROVE_EU_* adds the EU sandbox.
    const both = loadConfig({ PROVE_ENV: 'uat-us', PROVE_CLIENT_ID: 'a', PROVE_CLIENT_SECRET: 'b', ...EU }).proveRegions;
    expect(both.targets.us).toMatchObject({ clientId: 'a', serverURL: 'https://platform.uat.proveapis.com' });
    expect(both.targets.eu).toMatchObject({ clientId: 'eu-id', serverURL: 'https://platform.uat.eu.proveapis.com' });

    const base = loadConfig({ PROVE_BASE_URL: 'http://127.0.0.1:9', PROVE_CLIENT_ID: 'a', PROVE_CLIENT_SECRET: 'b', PROVE_DEFAULT_REGION: 'eu' });
    expect(base.proveRegions).toMatchObject({ defaultRegion: 'eu', sandbox: true, targets: { eu: { serverURL: 'http://127.0.0.1:9' } } });
  });

  it('per-region base URLs (a proxy, the emulator) need no PROVE_ENV; one region alone is the default', () => {
    const eu = loadConfig({ PROVE_EU_BASE_URL: 'http://127.0.0.1:9/eu', ...EU }).proveRegions;
    expect(eu).toMatchObject({ mode: 'remote', defaultRegion: 'eu', targets: { eu: { serverURL: 'http://127.0.0.1:9/eu' } } });
  });

  it('refuses contradictions and half-given settings, naming the variable', () => {
    expect(problemsOf({ PROVE_ENV: 'moon' })[0]).toMatch(/^PROVE_ENV: must be sandbox, production or one of/);
    expect(problemsOf({ PROVE_EU_CLIENT_ID: 'x', PROVE_ENV: 'sandbox' })[0]).toMatch(/^PROVE_EU_CLIENT_SECRET: PROVE_EU_CLIENT_ID and PROVE_EU_CLIENT_SECRET go together/);
    expect(problemsOf({ ...US })[0]).toMatch(/^PROVE_ENV: is required with Prove credentials .* unless PROVE_US_BASE_URL is set/);
    expect(problemsOf({ PROVE_ENV: 'sandbox', PROVE_CLIENT_ID: 'a', PROVE_CLIENT_SECRET: 'b', ...US })[0]).toMatch(
      /^PROVE_US_CLIENT_ID: PROVE_CLIENT_ID already serves the us region/,
    );
    expect(problemsOf({ PROVE_ENV: 'uat-eu', PROVE_DEFAULT_REGION: 'us', PROVE_CLIENT_ID: 'a', PROVE_CLIENT_SECRET: 'b' })[0]).toMatch(/^PROVE_DEFAULT_REGION: /);
    expect(problemsOf({ PROVE_ENV: 'sandbox', PROVE_DEFAULT_REGION: 'eu', ...US })[0]).toMatch(/^PROVE_DEFAULT_REGION: the default region \(eu\) has no credentials/);
    expect(problemsOf({ PROVE_DEFAULT_REGION: 'asia' })[0]).toMatch(/^PROVE_DEFAULT_REGION: must be us or eu/);
    expect(problemsOf({ PROVE_EU_BASE_URL: 'not a url', ...EU })[0]).toMatch(/^PROVE_EU_BASE_URL: must be an absolute URL/);
    expect(problemsOf({ PROVE_US_BASE_URL: 'http://127.0.0.1:9' })[0]).toMatch(/^PROVE_US_BASE_URL: needs PROVE_US_CLIENT_ID/);
    expect(problemsOf({ PROVE_EU_CLIENTID: 'typo' })[0]).toMatch(/^PROVE_EU_CLIENTID: is not a setting/);
    expect(problemsOf({ NODE_ENV: 'production' })[0]).toMatch(/^PROVE_CLIENT_ID: production mode needs Prove credentials/);
  });

  it('never puts a secret into a problem line', () => {
    const problems = problemsOf({ PROVE_ENV: 'sandbox', PROVE_CLIENT_ID: 'a', PROVE_CLIENT_SECRET: 'top-secret-1', PROVE_US_CLIENT_ID: 'b', PROVE_US_CLIENT_SECRET: 'top-secret-2' });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).not.toMatch(/top-secret/);
  });
});
