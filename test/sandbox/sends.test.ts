import { GraphClient, GraphRequestError } from '../../graph';
import { createSandbox, type Sandbox } from '../../sandbox';

/** The sandbox's templates and both send edges, driven through the service's own Graph client. */

const SYNC_MS = 300;
const IDLE_MS = 1_000;
let sandbox: Sandbox;
let graph: GraphClient;

beforeEach(async () => {
  sandbox = createSandbox({ appId: 'app', appSecret: 'secret', accessToken: 'system-token', templateSyncMs: SYNC_MS, templateIdleMs: IDLE_MS });
  const { url } = await sandbox.listen(0);
  graph = new GraphClient({ baseUrl: url, version: 'v24.0', accessToken: 'system-token', appId: 'app', appSecret: 'secret' });
});
afterEach(async () => {
  await graph.close();
  await sandbox.close();
});

const templateMessage = (name = 'spring_sale', extra: Record<string, unknown> = {}) => ({
  messaging_product: 'whatsapp',
  to: '+15550001111',
  type: 'template',
  template: { name, language: { code: 'en_US' } },
  ...extra,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function refusal(call: Promise<unknown>): Promise<GraphRequestError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GraphRequestError);
  return err as GraphRequestError;
}

async function onboardedWabaWithTemplate() {
  const waba = sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' });
  await sandbox.world.messaging.createTemplate(waba.id, { name: 'spring_sale', notify: false });
  return { waba, phone: waba.phoneNumbers[0].id };
}

test('/marketing_messages before the terms are signed is refused with 131055; /messages still sends', async () => {
  const waba = sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
  await sandbox.world.messaging.createTemplate(waba.id, { name: 'spring_sale', notify: false });
  const phone = waba.phoneNumbers[0].id;
  expect((await refusal(graph.sendMessage('marketing_messages', phone, templateMessage()))).code).toBe(131055);
  const sent = await graph.sendMessage('messages', phone, templateMessage());
  expect(sent.messageId).toMatch(/^wamid\./);
});

test('/marketing_messages during the template sync is refused with 131009, and sends once it is done', async () => {
  const { phone } = await onboardedWabaWithTemplate();
  expect((await refusal(graph.sendMessage('marketing_messages', phone, templateMessage()))).code).toBe(131009);
  await sleep(SYNC_MS + 50);
  const sent = await graph.sendMessage('marketing_messages', phone, templateMessage());
  expect(sent.body.messages[0]).toMatchObject({ id: sent.messageId, message_status: 'accepted' });
});

test('/marketing_messages takes template messages only (100)', async () => {
  const { phone } = await onboardedWabaWithTemplate();
  await sleep(SYNC_MS + 50);
  const err = await refusal(graph.sendMessage('marketing_messages', phone, { messaging_product: 'whatsapp', to: '+15550001111', type: 'text', text: { body: 'hi' } }));
  expect(err.code).toBe(100);
});

test('the first send after the idle window goes out and starts a re-sync; sends during it get 131009', async () => {
  const { phone } = await onboardedWabaWithTemplate();
  await sleep(SYNC_MS + 50);
  await graph.sendMessage('marketing_messages', phone, templateMessage());
  await sleep(IDLE_MS + 100);
  await graph.sendMessage('marketing_messages', phone, templateMessage());
  expect(sandbox.world.messaging.sent.at(-1)).toMatchObject({ startedResync: true });
  expect((await refusal(graph.sendMessage('marketing_messages', phone, templateMessage()))).code).toBe(131009);
  await sleep(SYNC_MS + 50);
  await graph.sendMessage('marketing_messages', phone, templateMessage());
});

test('a paused template is refused on both edges (132015); message_activity_sharing is recorded as sent', async () => {
  const { waba, phone } = await onboardedWabaWithTemplate();
  await sleep(SYNC_MS + 50);
  await graph.sendMessage('marketing_messages', phone, templateMessage('spring_sale', { message_activity_sharing: false }));
  expect(sandbox.world.messaging.sent.at(-1)).toMatchObject({ edge: 'marketing_messages', messageActivitySharing: false, wabaId: waba.id });
  await sandbox.world.messaging.setTemplateStatus(waba.id, 'spring_sale', 'PAUSED', 'low quality');
  expect((await refusal(graph.sendMessage('marketing_messages', phone, templateMessage()))).code).toBe(132015);
  expect((await refusal(graph.sendMessage('messages', phone, templateMessage()))).code).toBe(132015);
});

test("message_templates lists the WABA's templates, filtered by category and status", async () => {
  const waba = sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' });
  await sandbox.world.messaging.createTemplate(waba.id, { name: 'spring_sale', notify: false });
  await sandbox.world.messaging.createTemplate(waba.id, { name: 'order_update', category: 'UTILITY', notify: false });
  await sandbox.world.messaging.createTemplate(waba.id, { name: 'in_review', status: 'PENDING', notify: false });
  const listed = await graph.listMessageTemplates(waba.id, { category: 'MARKETING', status: 'APPROVED' });
  expect(listed.map((t) => t.name)).toEqual(['spring_sale']);
});
