import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/** The status page over plain HTTP: where it is served, what it is served with, and that it carries no secret. */

const PRODUCTION = {
  NODE_ENV: 'production',
  PROVE_CLIENT_ID: 'client-id',
  PROVE_CLIENT_SECRET: 'client-secret',
  // Never called by these tests: the gateway asks Prove only when a flow starts.
  PROVE_BASE_URL: 'http://127.0.0.1:9',
};

describe('status page over HTTP', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('is served at / in development, bundled from source, with a strict CSP and no API key', async () => {
    gw = await startGateway();
    const page = await fetch(`${gw.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await page.text();
    expect(html).toContain('<script type="application/json" id="page-config">{"graphql":"/graphql","emulator":"/prove-emulator"}</script>');
    expect(html).not.toContain(gw.config.apiKeys[0]!);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);

    const js = await fetch(`${gw.url}/status-page/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const code = await js.text();
    expect(code).toContain('graphql-transport-ws');
    expect(code).toContain('mutation PageStart');
    expect(code).not.toContain(gw.config.apiKeys[0]!);
    const css = await fetch(`${gw.url}/status-page/app.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await css.text()).length).toBeGreaterThan(100);

    expect((await fetch(`${gw.url}/`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${gw.url}/`, { method: 'POST' })).status).toBe(405);
  });

  it('can be turned off with STATUS_PAGE=off', async () => {
    gw = await startGateway({ STATUS_PAGE: 'off' });
    expect((await fetch(`${gw.url}/`)).status).toBe(404);
    expect((await fetch(`${gw.url}/status-page/app.js`)).status).toBe(404);
  });

  it('is off in production unless STATUS_PAGE=on, and then has no emulator to play the device with', async () => {
    gw = await startGateway(PRODUCTION);
    expect((await fetch(`${gw.url}/`)).status).toBe(404);
    await gw.close();

    gw = await startGateway({ ...PRODUCTION, STATUS_PAGE: 'on' });
    const html = await (await fetch(`${gw.url}/`)).text();
    expect(html).toContain('{"graphql":"/graphql","emulator":null}');
  });

  it('STATUS_PAGE accepts on or off only', () => {
    expect(loadConfig({ STATUS_PAGE: 'on' }).statusPage).toBe(true);
    expect(loadConfig({}).statusPage).toBe(true);
    expect(loadConfig(PRODUCTION).statusPage).toBe(false);
    expect(() => loadConfig({ STATUS_PAGE: 'yes' })).toThrow(/STATUS_PAGE: must be on or off, got "yes"/);
  });
});
