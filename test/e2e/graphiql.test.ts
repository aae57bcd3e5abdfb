import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { started, status } from '../support/flows.js';
import { GRAPHIQL_WALKTHROUGH } from '../../src/ui/graphiql.js';
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

  it('is off in production', async () => {
    const gw = await startGateway({
      NODE_ENV: 'production', PROVE_CLIENT_ID: 'id', PROVE_CLIENT_SECRET: 'secret', PROVE_BASE_URL: 'http://127.0.0.1:9',
    });
    try {
      const res = await html(gw.graphqlUrl);
      expect(res.headers.get('content-type') ?? '').not.toContain('text/html');
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
    await page.getByText('mutation StartMobile').first().waitFor({ timeout: 30_000 });
    await page.getByText('"paste flow.id here"').first().waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: /Execute query/ }).click();
    const menu = await page.getByRole('menuitem').allInnerTexts();
    expect(menu).toEqual(['StartMobile', 'StartDesktop', 'StartNone', 'Watch', 'Status', 'Bind', 'Flow']);
    await page.keyboard.press('Escape');
    await page.screenshot({ path: `${ARTIFACTS}graphiql-walkthrough.png` });
    expect(foreign).toEqual([]);
  });

  it('runs a subscription over graphql-ws and shows the flow change live', async () => {
    const { flow, authToken } = await started(gw, { possessionType: 'MOBILE', phoneNumber: '2001004014' });
    const query = `subscription LiveInGraphiQL {\n  unifyStatus(flowId: "${flow.id}") {\n    __typename\n    ... on UnifyStatusPayload { flow { state } }\n  }\n}\n`;
    // The page the first test loaded, reused (loading GraphiQL again costs seconds on a busy
    // machine): the subscription replaces the walkthrough in the editor, as a person would paste it.
    const editor = page.locator('.graphiql-query-editor').first();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gw.url });
    await page.evaluate((text) => navigator.clipboard.writeText(text), query);
    await page.keyboard.press('ControlOrMeta+V');
    await page.getByText('LiveInGraphiQL').first().waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: /Execute query/ }).click();
    const response = page.locator('.graphiql-response');
    await response.getByText('"PENDING"').waitFor({ timeout: 10_000 });

    // The device, then the AuthFinishStep's status query, from outside the browser: GraphiQL hears it.
    await gw.sim.authenticate({ authToken, otp: '1234' });
    expect((await status(gw, flow.id)).__typename).toBe('UnifyStatusPayload');
    await response.getByText('"VERIFIED"').waitFor({ timeout: 10_000 });
    expect(frames.some((f) => f.includes('"connection_ack"'))).toBe(true);
    expect(frames.some((f) => f.includes('"VERIFIED"'))).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}graphiql-subscription.png` });
    expect(foreign).toEqual([]);
  });
});
