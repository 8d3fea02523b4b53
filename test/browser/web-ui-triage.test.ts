/**
 * Triage in the Temporal Web UI as it is (the dev server's UI, in Debian's Chromium driven by
 * playwright-core): the needs-attention view by its URL, the OnboardingReasonKind column added with
 * the column chooser, and a parked run's current details. Screenshots go to
 * test/browser/screenshots/ (ignored by git) for a person to look at.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { freePort, startDevServer, type DevServer } from '../../scripts/dev-server';
import { FAST, startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.join(__dirname, 'screenshots');

let server: DevServer;
let stack: Stack;
let context: BrowserContext;
let profile: string;
let outerAddress: string | undefined;

beforeAll(async () => {
  // A dev server of its own, with its Web UI (the suite's shared one runs headless).
  server = await startDevServer({ uiPort: await freePort(), readyTimeoutMs: 120_000 });
  outerAddress = process.env.TEMPORAL_TEST_ADDRESS;
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
  stack = await startStack();
  mkdirSync(SHOTS, { recursive: true });
  profile = mkdtempSync(path.join(tmpdir(), 'mm-webui-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1600, height: 1000 },
  });
}, 180_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await stack?.stop();
  await server?.stop();
  if (outerAddress !== undefined) process.env.TEMPORAL_TEST_ADDRESS = outerAddress;
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

test('the needs-attention view lists parked WABAs with their reason kind, and a run shows its reason in its current details', async () => {
  const world = stack.sandbox.world;
  const expired = world.createWaba({ autoSign: false });
  const noNumber = world.createWaba({ autoSign: false, phoneNumbers: 0 });
  world.injectFault({ endpoint: 'waba_status', wabaId: expired.id, kind: 'token_expired', times: Infinity });
  for (const w of [expired, noNumber]) await stack.start({ wabaId: w.id, businessId: w.ownerBusinessId, path: 'manual', options: FAST });
  for (const w of [expired, noNumber]) await stack.waitForStatus(w.id, 'NEEDS_ATTENTION');
  await eventually(async () => ((await stack.client.workflow.count('OnboardingStatus = "NEEDS_ATTENTION"')).count === 2 ? true : undefined), 15_000, 'visibility');

  const page = await context.newPage();
  const query = encodeURIComponent('OnboardingStatus = "NEEDS_ATTENTION"');
  await page.goto(`${server.uiUrl}/namespaces/default/workflows?query=${query}`);
  await page.getByText(`mm-onboarding:${expired.id}`).first().waitFor({ timeout: 30_000 });
  await shot(page, 'ui-1-needs-attention');
  // The column chooser: "Configure Columns", the sliders icon below the table, bottom right.
  await page.getByRole('button', { name: 'Configure Columns' }).click();
  await shot(page, 'ui-2-column-chooser');
  for (const column of ['WabaId', 'OnboardingReasonKind', 'OnboardingStatusSince']) {
    await page.getByRole('button', { name: `Add ${column} column` }).click();
  }
  for (const column of ['Run ID', 'Type', 'End']) {
    await page.getByRole('button', { name: `Remove ${column} column` }).click();
  }
  await page.getByRole('button', { name: 'Close Workflows Table configuration' }).click();
  const table = page.locator('table').first();
  await table.getByText('expired_token').waitFor({ timeout: 15_000 });
  await table.getByText('no_cloud_api_number').waitFor();
  await shot(page, 'ui-3-reason-kind-column');

  // A saved view (the UI keeps it in this browser): "Save as New", named.
  await page.getByTestId('create-view-button').click();
  const dialog = page.getByRole('dialog').filter({ has: page.getByRole('textbox') }).first();
  await dialog.getByRole('textbox').first().fill('Needs attention');
  await shot(page, 'ui-4-save-view');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await page.reload();
  await page.getByTestId('saved-views-button').click();
  await page.getByText('Needs attention').first().waitFor({ timeout: 10_000 });
  await shot(page, 'ui-5-saved-views');
  await page.keyboard.press('Escape');

  // A parked run: its current details say the status, the reason kind and the reason, in full.
  const run = await context.newPage();
  await run.goto(`${server.uiUrl}/namespaces/default/workflows/mm-onboarding:${expired.id}`);
  // Its tab "User Metadata" shows the summary and current details.
  await run.getByRole('tab', { name: 'User Metadata' }).click();
  // The UI renders the details' markdown in a sandboxed frame of their own.
  const shown = async () => {
    const texts = await Promise.all(run.frames().map((f) => f.evaluate('document.body ? document.body.innerText : ""').catch(() => '')));
    return texts.map(String).join('\n');
  };
  await eventually(async () => ((await shown()).includes('NEEDS_ATTENTION · expired_token') ? true : undefined), 30_000, 'the current details');
  // The status and kind on their own line, the reason in full on the next: nothing cut off.
  expect(await shown()).toMatch(/NEEDS_ATTENTION · expired_token\s+Graph API: GET \/v\d+\.0\/\d+ failed: Error validating access token[^\n]*code 190/);
  await shot(run, 'ui-6-current-details');
  await run.close();
  await page.close();
});
