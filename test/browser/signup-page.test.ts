/**
 * The hosted Embedded Signup page in a real headless Chromium (Debian's, driven by playwright-core),
 * against the sandbox's stand-in for Meta's JS SDK: from the click to AWAITING_TERMS, a cancelled
 * popup, an error in the popup, and expired and used links. Each state is screenshotted into
 * test/browser/screenshots/ (ignored by git) for a person to look at.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { SANDBOX_DEFAULTS } from '../../config';
import { SignupLinkSigner } from '../../api/signup/link-token';
import { startAppHarness, TEST_SECRETS, type AppHarness } from '../harness/app-harness';
import { WEBHOOK_ONLY } from '../harness/stack';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.join(__dirname, 'screenshots');

let h: AppHarness;
let context: BrowserContext;
let profile: string;
const world = () => h.stack.sandbox.world;

beforeAll(async () => {
  // Sandbox mode, so the page believes the stand-in popup's messages (its origin is the SDK's).
  h = await startAppHarness({
    sandbox: { accessToken: SANDBOX_DEFAULTS.accessToken },
    env: (sandboxUrl) => ({ MM_SANDBOX: 'true', META_ACCESS_TOKEN: '', META_SDK_URL: `${sandboxUrl}/sdk.js` }),
  });
  mkdirSync(SHOTS, { recursive: true });
  profile = mkdtempSync(path.join(tmpdir(), 'mm-signup-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 900, height: 860 },
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await h?.stop();
});

async function newLink(body: object = {}): Promise<string> {
  const res = await h.http().post('/v1/signup-links').set(h.auth).send({ partnerName: 'Acme Messaging', options: WEBHOOK_ONLY, ...body });
  expect(res.status).toBe(201);
  // The link names PUBLIC_BASE_URL (here the default, 127.0.0.1:PORT); the test app listens elsewhere.
  return `${h.url}/signup/${res.body.url.split('/signup/')[1]}`;
}

async function openReady(url: string): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  const res = await page.goto(url);
  expect(res?.status()).toBe(200);
  await page
    .locator('#connect:not([disabled])')
    .waitFor({ timeout: 15_000 })
    .catch((err: Error) => {
      throw new Error(`${err.message}; page errors: ${JSON.stringify(errors)}`);
    });
  expect(await page.locator('#status').getAttribute('data-state')).toBe('ready');
  expect(errors).toEqual([]);
  return page;
}

/** Clicks the page's button and returns the popup it opened. */
async function launchPopup(page: Page): Promise<Page> {
  const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#connect')]);
  await popup.waitForLoadState();
  return popup;
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const stateOf = (page: Page) => page.locator('#status').getAttribute('data-state');

test("the customer clicks, finishes Meta's popup, and the onboarding moves on to AWAITING_TERMS", async () => {
  const waba = world().createWaba({ autoSign: false });
  world().planSignup({ wabaId: waba.id });
  const url = await newLink();
  const page = await openReady(url);
  await shot(page, '1-ready');

  const popup = await launchPopup(page);
  expect(await stateOf(page)).toBe('in-progress');
  await shot(page, '2-in-progress');
  // The popup was launched with the seed's payload.
  expect(world().signupLaunches.at(-1)).toEqual({
    config_id: SANDBOX_DEFAULTS.esConfigId,
    response_type: 'code',
    override_default_response_type: true,
    extras: { featureType: 'whatsapp_business_app_onboarding', sessionInfoVersion: '3', features: [{ name: 'marketing_messages_lite' }], version: 'v3' },
  });
  await popup.click('#finish');

  await page.locator('#status[data-state="done"]').waitFor({ timeout: 30_000 });
  expect(await page.locator('#status-title').textContent()).toBe('Your WhatsApp account is connected');
  expect(await page.locator('#connect').isHidden()).toBe(true);
  await shot(page, '3-done');

  const state = await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  expect(state).toMatchObject({ path: 'embedded_signup', businessId: waba.ownerBusinessId, insightsAvailable: true });
  expect(world().waba(waba.id).subscribedApps).toContain(TEST_SECRETS.appId);
  // No secret reached the page at any point.
  const html = await page.content();
  for (const secret of [TEST_SECRETS.apiKey, TEST_SECRETS.appSecret, SANDBOX_DEFAULTS.accessToken]) expect(html).not.toContain(secret);

  // The link is used up: the same URL now says so.
  const again = await page.goto(url);
  expect(again?.status()).toBe(410);
  expect(await page.locator('h1').textContent()).toBe('This link has already been used');
  // The signup succeeded: the page says so calmly, not in the error's red.
  expect(await page.locator('.status').getAttribute('data-state')).toBe('done');
  const colours = (await page.evaluate(`(() => {
    const paint = (value) => { const probe = document.createElement('div'); probe.style.background = value; document.body.append(probe); const c = getComputedStyle(probe).backgroundColor; probe.remove(); return c; };
    return { box: getComputedStyle(document.querySelector('.status')).backgroundColor, ok: paint('var(--ok-bg)'), bad: paint('var(--bad-bg)') };
  })()`)) as { box: string; ok: string; bad: string };
  expect(colours.bad).not.toBe(colours.ok);
  expect(colours.box).toBe(colours.ok);
  await shot(page, '6-used-link');
  await page.close();
});

test('a popup cancelled at a step says where, and offers the button again', async () => {
  const page = await openReady(await newLink());
  const popup = await launchPopup(page);
  await popup.selectOption('#step', 'PHONE_NUMBER_VERIFICATION');
  await popup.click('#cancel');

  await page.locator('#status[data-state="failed"]').waitFor({ timeout: 15_000 });
  expect(await page.locator('#status-title').textContent()).toBe('The signup was cancelled');
  expect(await page.locator('#status-text').textContent()).toContain('while verifying the phone number');
  expect(await page.locator('#connect').isEnabled()).toBe(true);
  expect(await page.locator('#connect').textContent()).toBe('Try again');
  await shot(page, '4-cancelled');

  // Trying again works from the same page.
  const waba = world().createWaba({ autoSign: false });
  world().planSignup({ wabaId: waba.id });
  const retry = await launchPopup(page);
  await retry.click('#finish');
  await page.locator('#status[data-state="done"]').waitFor({ timeout: 30_000 });
  await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  await page.close();
});

test("an error in Meta's popup shows Meta's reason and what to do", async () => {
  const page = await openReady(await newLink());
  const popup = await launchPopup(page);
  await popup.click('#error');
  await page.locator('#status[data-state="failed"]').waitFor({ timeout: 15_000 });
  expect(await page.locator('#status-title').textContent()).toBe('Facebook could not finish the signup');
  const text = (await page.locator('#status-text').textContent()) ?? '';
  expect(text).toMatch(/could not be verified.*contact Acme Messaging \(error 524126\)/);
  // Meta's sentence is quoted whole, with one full stop: no "later.". before ours.
  expect(text).not.toMatch(/[.!?]"[.]/);
  expect(text).toMatch(/^Facebook said: "[^"]+[.!?]" Click Try again; if it happens again, contact Acme Messaging \(error 524126\)\.$/);
  expect(await page.locator('#connect').isEnabled()).toBe(true);
  await shot(page, '5-error');
  await page.close();
});

test("a WA_EMBEDDED_SIGNUP message from another origin is ignored; a popup simply closed says so", async () => {
  const page = await openReady(await newLink());
  const popup = await launchPopup(page);
  // Forged from the page's own origin, which is not Meta's (nor, here, the sandbox's).
  const forged = JSON.stringify({ type: 'WA_EMBEDDED_SIGNUP', event: 'ERROR', data: { error_message: 'forged', error_id: '1' } });
  await page.evaluate(`window.postMessage(${JSON.stringify(forged)}, '*')`);
  await popup.close();
  await page.locator('#status[data-state="failed"]').waitFor({ timeout: 15_000 });
  expect(await page.locator('#status-title').textContent()).toBe('The Facebook window closed before the signup finished');
  await page.close();
});

test('an expired link gets a plain 410 page', async () => {
  const expired = new SignupLinkSigner(TEST_SECRETS.appSecret).issue({ exp: Math.floor(Date.now() / 1000) - 60, partnerName: 'Acme Messaging' });
  const page = await context.newPage();
  const res = await page.goto(`${h.url}/signup/${expired.token}`);
  expect(res?.status()).toBe(410);
  expect(await page.locator('h1').textContent()).toBe('This link has expired');
  expect(await page.locator('.status-text').textContent()).toBe('Ask Acme Messaging for a new signup link.');
  await shot(page, '7-expired-link');
  await page.close();
});
