import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { started, status } from '../support/flows.js';
import { GRAPHIQL_WALKTHROUGH, WALKTHROUGH_WIDTH } from '../../src/ui/graphiql.js';
import { prepareGraphiQLAssets } from '../../src/ui/graphiql-assets.js';
import { ARTIFACTS, chromiumAvailable, launchChromium, type Browser } from './browser.js';

/** GraphiQL at /graphql: served from the installed bundle, a whole flow preloaded, subscriptions over graphql-ws. */

const html = (url: string) => fetch(url, { headers: { accept: 'text/html' } });

describe('GraphiQL over HTTP', () => {
  it('is served in development from the installed bundle (no CDN), with the walkthrough and graphql-ws', async () => {
    const gw = await startGateway();
    try {
      const res = await html(gw.graphqlUrl);
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).not.toContain('unpkg.com');
      expect(body).not.toMatch(/<script[^>]+src=["']?https?:/);
      expect(body).toContain('"subscriptionsProtocol":"WS"');
      expect(body).toContain(JSON.stringify(GRAPHIQL_WALKTHROUGH).slice(1, 80));
    } finally {
      await gw.close();
    }
  });

  it('is a small page naming its assets, each compressed, cacheable for a year and ETagged', async () => {
    const gw = await startGateway();
    try {
      const page = await (await html(gw.graphqlUrl)).text();
      // yoga's own page inlined 9 MB; this one only names the assets.
      expect(Buffer.byteLength(page)).toBeLessThan(24_000);
      const script = /<script defer src="(\/graphiql-assets\/[\w-]+\/graphiql\.js)"/.exec(page)?.[1];
      const style = /<link rel="stylesheet" href="(\/graphiql-assets\/[\w-]+\/graphiql\.css)"/.exec(page)?.[1];
      expect(script && style).toBeTruthy();
      expect(page).not.toContain('__GATEWAY_ORIGIN__":'); // the placeholder is in the options, filled in by the browser

      const js = await fetch(`${gw.url}${script}`, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      expect(js.status).toBe(200);
      expect(js.headers.get('content-encoding')).toBe('br');
      expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(js.headers.get('vary')).toBe('accept-encoding');
      const etag = js.headers.get('etag')!;
      expect(etag).toMatch(/^"[\w-]+-br"$/);
      const text = await js.text();
      expect(text).toContain('renderYogaGraphiQL');
      // Compressed on the wire to under a third of its size.
      expect(Number(js.headers.get('content-length'))).toBeLessThan(Buffer.byteLength(text) / 3);

      const again = await fetch(`${gw.url}${script}`, { headers: { 'accept-encoding': 'br', 'if-none-match': etag } });
      expect(again.status).toBe(304);
      const gzipOnly = await fetch(`${gw.url}${style}`, { headers: { 'accept-encoding': 'gzip' } });
      expect([gzipOnly.status, gzipOnly.headers.get('content-encoding')]).toEqual([200, 'gzip']);
      expect(await gzipOnly.text()).toContain('.graphiql-container');
      for (const worker of ['editor.worker.js', 'json.worker.js', 'graphql.worker.js', 'favicon.ico']) {
        const res = await fetch(`${gw.url}${script!.replace('graphiql.js', worker)}`);
        expect(res.status, worker).toBe(200);
        await res.arrayBuffer();
      }
      // Another version's URL, a made-up name, a POST: refused without a 500.
      expect((await fetch(`${gw.url}/graphiql-assets/old-version/graphiql.js`)).status).toBe(404);
      expect((await fetch(`${gw.url}${script!.replace('graphiql.js', '..%2f..%2fpackage.json')}`)).status).toBe(404);
      expect((await fetch(`${gw.url}${script}`, { method: 'POST' })).status).toBe(405);
    } finally {
      await gw.close();
    }
  });

  it('is off in production', async () => {
    const gw = await startGateway({
      NODE_ENV: 'production', PROVE_CLIENT_ID: 'id', PROVE_CLIENT_SECRET: 'secret', PROVE_BASE_URL: 'http://127.0.0.1:9',
    });
    try {
      const res = await html(gw.graphqlUrl);
      expect(res.headers.get('content-type') ?? '').not.toContain('text/html');
      const asset = await fetch(`${gw.url}/graphiql-assets/any/graphiql.js`);
      expect(asset.headers.get('content-type') ?? '').not.toContain('javascript');
    } finally {
      await gw.close();
    }
  });

  it('the walkthrough names every operation of a whole flow, and each one is valid against the schema', async () => {
    for (const name of ['mutation StartMobile', 'mutation StartDesktop', 'mutation StartNone', 'subscription Watch', 'query Status', 'mutation Bind', 'query Flow']) {
      expect(GRAPHIQL_WALKTHROUGH).toContain(name);
    }
    const gw = await startGateway();
    try {
      // Validation only: running Status against an unknown id answers FlowNotFoundError, not a GraphQL error.
      const { status: code, body } = await gw.raw({ query: GRAPHIQL_WALKTHROUGH, operationName: 'Status', variables: { flowId: 'nope' } });
      expect(code).toBe(200);
      expect(body.errors).toBeUndefined();
      expect((body.data as { unifyStatus: { __typename: string } }).unifyStatus.__typename).toBe('FlowNotFoundError');
    } finally {
      await gw.close();
    }
  });
});


describe.skipIf(!chromiumAvailable)('GraphiQL in headless Chromium', () => {

  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  const foreign: string[] = [];
  const frames: string[] = [];

  beforeAll(async () => {
    gw = await startGateway();
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(gw.url) && !url.startsWith('data:') && !url.startsWith('blob:')) foreign.push(url);
    });
    page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => frames.push(String(payload))));
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('opens with the walkthrough, its variables, and every operation in the run menu, loading nothing from outside', async () => {
    await page.goto(gw.graphqlUrl);
    await page.getByText('# unify-gateway: a whole Prove Unify').first().waitFor({ timeout: 30_000 });
    await page.getByText('"paste flow.id here"').first().waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: /Execute query/ }).click();
    const menu = await page.getByRole('menuitem').allInnerTexts();
    expect(menu).toEqual(['StartMobile', 'StartDesktop', 'StartNone', 'Watch', 'Status', 'Bind', 'Flow']);
    await page.keyboard.press('Escape');
    await page.screenshot({ path: `${ARTIFACTS}graphiql-walkthrough.png` });
    expect(foreign).toEqual([]);
  });

  it('paints within 2 s, and the walkthrough fits the editor with this gateway\'s own origin in its curl lines', async () => {
    // What npm start does once it listens (src/main.ts): the assets are ready before anyone asks.
    await prepareGraphiQLAssets();
    // A browser of its own: a first visit, nothing cached, no tabs kept from the other tests.
    const first = await launchChromium();
    const fresh = await first.context.newPage();
    try {
      const began = Date.now();
      await fresh.goto(gw.graphqlUrl);
      await fresh.getByText('# unify-gateway: a whole Prove Unify').first().waitFor({ timeout: 30_000 });
      const ready = Date.now() - began;
      const paint = await fresh.evaluate(() =>
        performance.getEntriesByType('paint').find((entry) => entry.name === 'first-contentful-paint')?.startTime);
      console.info(`GraphiQL: first contentful paint ${Math.round(paint ?? -1)} ms, walkthrough in the editor after ${ready} ms`);
      expect(paint).toBeDefined();
      expect(paint!).toBeLessThan(2_000);

      const origin = new URL(gw.url).origin;
      await fresh.getByText(`E=${origin}`, { exact: false }).first().waitFor({ timeout: 5_000 });
      // No line of the walkthrough runs past the editor's right edge.
      const fit = await fresh.evaluate(() => {
        const editor = document.querySelector('.graphiql-query-editor .monaco-editor')!;
        const lines = editor.querySelector('.lines-content')!.getBoundingClientRect();
        const visible = editor.querySelector('.overflow-guard')!.getBoundingClientRect();
        const widest = Math.max(...[...editor.querySelectorAll('.view-line > span')].map((span) => span.getBoundingClientRect().right));
        return { widest, right: visible.right, left: lines.left };
      });
      expect(fit.widest).toBeLessThanOrEqual(fit.right);
      await fresh.screenshot({ path: `${ARTIFACTS}graphiql-first-paint.png` });
    } finally {
      await first.close();
    }
    const longest = Math.max(...GRAPHIQL_WALKTHROUGH.split('\n').map((line) => line.replace('__GATEWAY_ORIGIN__', 'http://127.0.0.1:40000').length));
    expect(longest).toBeLessThanOrEqual(WALKTHROUGH_WIDTH);
    expect(GRAPHIQL_WALKTHROUGH).not.toContain(':4000');
  });

  it('runs a subscription over graphql-ws and shows the flow change live', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const query = `subscription LiveInGraphiQL {\n  unifyStatus(flowId: "${flow.id}") {\n    __typename\n    ... on UnifyStatusPayload { flow { state } }\n  }\n}\n`;
    await page.goto(`${gw.graphqlUrl}?query=${encodeURIComponent(query)}`);
    await page.getByText('LiveInGraphiQL').first().waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: /Execute query/ }).click();
    const response = page.locator('.graphiql-response');
    await response.getByText('"PENDING"').waitFor({ timeout: 30_000 });

    // The device, then the AuthFinishStep's status query, from outside the browser: GraphiQL hears it.
    await gw.sim.authenticate({ authToken, otp: '1234' });
    expect((await status(gw, flow.id)).__typename).toBe('UnifyStatusPayload');
    await response.getByText('"VERIFIED"').waitFor({ timeout: 30_000 });
    expect(frames.some((f) => f.includes('"connection_ack"'))).toBe(true);
    expect(frames.some((f) => f.includes('"VERIFIED"'))).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}graphiql-subscription.png` });
    expect(foreign).toEqual([]);
  });
});
