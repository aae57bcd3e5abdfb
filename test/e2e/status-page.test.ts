import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.js';
import { ARTIFACTS, chromiumAvailable, launchChromium, type Browser } from './browser.js';

/**
 * The status page at / driven the way a person drives it, in headless Chromium against a real
 * gateway with its embedded emulator: a MOBILE flow, a 9101 and the rebind that fixes it, a NONE
 * flow bound with a pasted API key. Assertions read what is on screen; the state changes arrive
 * through the page's graphql-ws subscription (the Events log says which channel said what).
 */

const WAIT = 15_000;


describe.skipIf(!chromiumAvailable)('status page in headless Chromium', () => {

  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const foreign: string[] = [];
  const wsFrames: string[] = [];

  beforeAll(async () => {
    gw = await startGateway();
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(gw.url) && !request.url().startsWith('data:')) foreign.push(request.url());
    });
    page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => wsFrames.push(String(payload))));
    const response = await page.goto(`${gw.url}/`);
    expect(response?.status()).toBe(200);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: WAIT });
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  const state = () => page.locator('#state');
  const waitForState = (value: string) => page.locator('#state', { hasText: new RegExp(`^${value}$`) }).waitFor({ timeout: WAIT });
  const logText = () => page.locator('#log').innerText();
  const waitForLog = (text: string) => page.locator('#log li', { hasText: text }).first().waitFor({ timeout: WAIT });
  const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}status-page-${name}.png`, fullPage: true });

  async function startFlow(type: 'MOBILE' | 'DESKTOP' | 'NONE', phoneNumber: string) {
    await page.getByRole('radio', { name: new RegExp(`^${type}`) }).check();
    await page.getByLabel('Sandbox phone number').selectOption(phoneNumber);
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await waitForState('PENDING');
  }

  it('lists the sandbox users and loads nothing from outside the gateway', async () => {
    const options = await page.getByLabel('Sandbox phone number').locator('option').allInnerTexts();
    expect(options.some((o) => o.startsWith('2001004014'))).toBe(true);
    expect(options.some((o) => o.startsWith('2001004015'))).toBe(true);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('unify-gateway');
  });

  it('MOBILE: start, enter the SMS code, and see VERIFIED arrive over the subscription', async () => {
    await startFlow('MOBILE', '2001004014');
    await expect(page.getByRole('heading', { name: '2 · The flow, live' }).isVisible()).resolves.toBe(true);
    expect(await page.locator('#flow-phone').innerText()).toMatch(/4014$/);
    expect(await page.locator('#flow-phone').innerText()).not.toContain('200100');
    // Countdown to expiry: 15 minutes, ticking.
    await page.locator('#countdown', { hasText: /^1[45]:\d\d$/ }).waitFor({ timeout: WAIT });
    await waitForLog('live: PENDING');
    await page.locator('#connection', { hasText: 'connected' }).waitFor({ timeout: WAIT });
    await shot('mobile-pending');

    await expect(page.getByRole('textbox', { name: /SMS code/ }).inputValue()).resolves.toBe('1234');
    await page.getByRole('button', { name: 'Enter the SMS code' }).click();
    await waitForState('VERIFIED');
    await waitForLog('live: VERIFIED');
    expect(await page.locator('#device-result').innerText()).toBe('Device: finished');
    expect(await page.locator('#state-help').innerText()).toContain('Possession verified');
    expect(await page.locator('#countdown').innerText()).toBe('final state, no expiry');
    const deviceId = await page.locator('#flow-device').innerText();
    expect(deviceId).toMatch(/\S{8,}/);
    expect(await page.locator('#device-key').innerText()).toBe(deviceId);
    await page.locator('#log li', { hasText: 'live: subscription complete' }).waitFor({ timeout: WAIT });
    await page.locator('#connection', { hasText: 'closed: the flow is final' }).waitFor({ timeout: WAIT });
    // The device section is gone once the flow is final.
    expect(await page.locator('#device-section').isHidden()).toBe(true);
    expect(wsFrames.some((f) => f.includes('"VERIFIED"'))).toBe(true);
    await shot('mobile-verified');
  });

  it('9101: the key of 2001004014 on a 2001004015 flow is explained, and "start again with rebind" verifies', async () => {
    const keyBefore = await page.locator('#device-key').innerText();
    await startFlow('MOBILE', '2001004015');
    await page.getByRole('button', { name: 'Enter the SMS code' }).click();
    await waitForState('FAILED');
    const mismatch = page.getByRole('heading', { name: 'Prove Key mismatch (reason 9101)' });
    await mismatch.waitFor({ timeout: WAIT });
    expect(await page.locator('#mismatch-section').innerText()).toContain('holds another phone number');
    expect(await page.locator('#flow-reasons').innerText()).toContain('9101');
    await waitForLog('live: FAILED (9101), ProveKeyMismatchError');
    await shot('mobile-9101');

    await page.getByRole('button', { name: 'Start again with rebind' }).click();
    await waitForLog('started MOBILE for 2001004015 with rebind');
    await waitForState('PENDING');
    expect(await mismatch.isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Enter the SMS code' }).click();
    await waitForState('VERIFIED');
    await waitForLog('live: VERIFIED');
    // The same Prove Key, now holding 2001004015.
    expect(await page.locator('#flow-device').innerText()).toBe(keyBefore);
    expect(await page.locator('#flow-phone').innerText()).toMatch(/4015$/);
  });

  it('NONE: the device finds no key for the number, POSSESSION_REQUIRED, then bind with a pasted API key: BOUND', async () => {
    await page.getByRole('button', { name: 'Forget the key' }).click();
    expect(await page.locator('#device-key').innerText()).toBe('none yet');
    await startFlow('NONE', '2001004014');
    await page.getByRole('button', { name: 'Run the client SDK' }).click();
    await waitForState('POSSESSION_REQUIRED');
    await waitForLog('live: POSSESSION_REQUIRED');
    // No device step is left to show: the steps are numbered 1, 2, 3 without a gap.
    const bindHeading = page.getByRole('heading', { name: '3 · Bind the phone' });
    await bindHeading.waitFor({ timeout: WAIT });
    expect(await page.getByLabel('Phone number', { exact: true }).inputValue()).toBe('2001004014');

    // A wrong key is refused, and says so.
    await page.getByLabel('API key').fill('not-a-key-0000000000000000');
    await page.getByRole('button', { name: 'Bind phone' }).click();
    await waitForLog('bindPhone: The API key is not valid');
    // … next to the Bind button too, not only in the Events log.
    await page.locator('#bind-result.error', { hasText: 'bindPhone: The API key is not valid' }).waitFor({ timeout: WAIT });
    expect(await state().innerText()).toBe('POSSESSION_REQUIRED');

    await page.getByLabel('API key').fill(TEST_API_KEY);
    await page.getByRole('button', { name: 'Bind phone' }).click();
    await waitForState('BOUND');
    await waitForLog('live: BOUND');
    expect(await page.locator('#bind-result').innerText()).toBe('Bound ***4014.');
    expect(await page.locator('#state-help').innerText()).toContain('Bound');
    // The trusted answer's full number never reaches the screen.
    expect(await page.locator('#flow-phone').innerText()).toBe('***4014');
    expect(await page.locator('main').innerText()).not.toContain('2001004014.');
    expect(await bindHeading.isVisible()).toBe(false);
    await shot('none-bound');
  });

  it('NONE with the kept Prove Key: the device says it presents the key, VERIFIED with nothing to bind', async () => {
    // The bind above left this device's key holding 2001004014.
    expect(await page.locator('#device-key').innerText()).not.toBe('none yet');
    await startFlow('NONE', '2001004014');
    await page.getByRole('button', { name: 'Run the client SDK' }).click();
    await waitForState('VERIFIED');
    expect(await page.locator('#device-result').innerText()).toMatch(/^Device: finished, presenting this device’s Prove Key \(…\S{6}\)$/);
    expect(await page.locator('#state-help').innerText()).toContain('already holds the number, so there is nothing to bind');
    expect(await page.locator('#bind-section').isHidden()).toBe(true);
  });

  it('2001004018: no device step is offered; the page asks unifyStatus at once: VERIFIED', async () => {
    await page.getByRole('radio', { name: /^MOBILE/ }).check();
    await page.getByLabel('Sandbox phone number').selectOption('2001004018');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await waitForState('VERIFIED');
    await waitForLog('device: nothing to play, this sandbox number passes with no device step');
    expect(await page.locator('#device-section').isHidden()).toBe(true);
    expect(await logText()).not.toMatch(/device: (finished|failed)\n[^\n]*\n?.*2001004018/);
    await shot('instant-pass');
  });

  it('DESKTOP: tap the Instant Link, VERIFIED without a device key', async () => {
    await startFlow('DESKTOP', '2001004015');
    await page.getByRole('button', { name: 'Tap the Instant Link' }).click();
    await waitForState('VERIFIED');
    await waitForLog('live: VERIFIED');
    expect(await page.locator('#flow-device').innerText()).toBe('—');
  });

  it('the Events log shows every line whole, its last one included', async () => {
    expect(await page.locator('#log li').count()).toBeGreaterThan(15);
    const box = await page.locator('#log').evaluate((log) => ({
      hidden: log.scrollHeight - log.clientHeight,
      lastBottom: log.lastElementChild!.getBoundingClientRect().bottom,
      bottom: log.getBoundingClientRect().bottom,
    }));
    expect(box.hidden).toBeLessThanOrEqual(0);
    expect(box.lastBottom).toBeLessThanOrEqual(box.bottom);
    await shot('events');
  });

  it('saw no script errors and made no request outside the gateway (no CDN)', async () => {
    expect(problems.filter((p) => !p.includes('401'))).toEqual([]);
    expect(foreign).toEqual([]);
    expect(await logText()).not.toContain(TEST_API_KEY);
  });
});

describe.skipIf(!chromiumAvailable)('status page: a refused start, next to Start', () => {
  it('RateLimitedError shows its countdown beside the Start button', async () => {
    const gw = await startGateway({ START_LIMIT_PER_NUMBER: '1/10m' });
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${gw.url}/`);
      await page.locator('body[data-ready="true"]').waitFor({ timeout: WAIT });
      await page.getByLabel('Sandbox phone number').selectOption('2001004015');
      const start = page.getByRole('button', { name: 'Start', exact: true });
      await start.click();
      await page.locator('#state', { hasText: /^PENDING$/ }).waitFor({ timeout: WAIT });
      await start.click();
      const result = page.locator('#start-result.error');
      await result.getByText(/^startUnify: RateLimitedError: .* Try again in 9:5\d\.$/).waitFor({ timeout: WAIT });
      const first = await result.innerText();
      // It counts down, a second at a time.
      await page.waitForFunction((before) => document.getElementById('start-result')!.textContent !== before, first, { timeout: WAIT });
      expect(await result.innerText()).toMatch(/Try again in 9:[45]\d\./);
      await page.screenshot({ path: `${ARTIFACTS}status-page-rate-limited.png`, fullPage: true });
    } finally {
      await browser.close();
      await gw.close();
    }
  });
});
