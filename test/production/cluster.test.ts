/**
 * The service on a real Temporal cluster (PostgreSQL, SQL visibility, the server built from source,
 * deploy/temporal/config/production.yaml), through faults: two worker processes and the API started
 * as the image starts them; one worker SIGKILLed mid-onboarding; the Temporal server restarted while
 * the onboardings wait for the terms, with Meta's webhooks arriving while it is down.
 * Run by `npm run test:production` (jest.production.config.js), not by `npm test`.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { startProductionCluster, type ProductionCluster } from '../../scripts/production-cluster';
import { freePort } from '../../scripts/dev-server';
import { graphTaskQueue } from '../../temporal/task-queues';
import { createSandbox, type Sandbox } from '../../sandbox';
import { onboardingWorkflowId } from '../../workflows/types';
import { buildAsTheImageDoes, repoRoot, startEntryPoint, type ImageBuild, type ServiceProcess } from '../harness/image-build';
import { TEST_SECRETS, testServiceEnv, WEBHOOK_ONLY } from '../harness/stack';
import { eventually, waitUntil } from '../harness/wait';

const run = promisify(execFile);
jest.setTimeout(15 * 60_000);

const log = (line: string) => process.stdout.write(`[production] ${line}\n`);

let cluster: ProductionCluster;
let build: ImageBuild;
let sandbox: Sandbox;
let api: ServiceProcess;
let workers: ServiceProcess[] = [];
let survivor: ServiceProcess;
let apiUrl: string;
let connection: Connection;
let client: Client;
const TASK_QUEUE = 'mm-onboarding-production-test';
// temporal.api.enums.v1.TaskQueueType
const WORKFLOW_TASK_QUEUE_TYPE = 1;
const ACTIVITY_TASK_QUEUE_TYPE = 2;

/** Three businesses with 3, 2 and 1 WABAs, all taken down the Intent API path. */
const portfolio = [
  { businessId: '7100000000000001', wabaIds: ['7200000000000011', '7200000000000012', '7200000000000013'] },
  { businessId: '7100000000000002', wabaIds: ['7200000000000021', '7200000000000022'] },
  { businessId: '7100000000000003', wabaIds: ['7200000000000031'] },
];
const allWabas = portfolio.flatMap((b) => b.wabaIds.map((wabaId) => ({ wabaId, businessId: b.businessId })));

async function apiCall(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${TEST_SECRETS.apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

const statusOf = async (wabaId: string) => (await apiCall('GET', `/v1/onboardings/${wabaId}`)).body?.status as string | undefined;

const serviceEnv = (extra: Record<string, string> = {}) =>
  testServiceEnv(
    { temporalAddress: cluster.address, taskQueue: TASK_QUEUE, graphUrl: sandboxUrl },
    { TEMPORAL_NAMESPACE: cluster.namespace, GRAPH_MAX_RPS: '100', ...extra },
  );
let sandboxUrl: string;

beforeAll(async () => {
  const started = Date.now();
  [cluster, build] = await Promise.all([
    startProductionCluster({ log }),
    buildAsTheImageDoes('production'),
  ]);
  log(`cluster and build ready in ${Math.round((Date.now() - started) / 1000)} s`);
  const apiPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  // Meta keeps retrying a webhook for days; here: 8 tries over about two minutes (1 s, doubling).
  sandbox = createSandbox({
    appId: TEST_SECRETS.appId,
    appSecret: TEST_SECRETS.appSecret,
    accessToken: TEST_SECRETS.accessToken,
    webhookUrl: `${apiUrl}/webhooks/whatsapp`,
    webhookRetry: { attempts: 8, backoffMs: 1_000, timeoutMs: 10_000 },
  });
  sandboxUrl = (await sandbox.listen(0)).url;
  for (const b of portfolio) {
    sandbox.world.createBusiness({ id: b.businessId });
    for (const wabaId of b.wabaIds) sandbox.world.createWaba({ id: wabaId, ownerBusinessId: b.businessId, autoSign: false });
  }

  workers = [0, 1].map(() => startEntryPoint(build, 'worker/main.js', serviceEnv()));
  api = startEntryPoint(build, 'api/main.js', serviceEnv({ PORT: String(apiPort) }));
  await eventually(
    async () => ((await fetch(`${apiUrl}/readyz`)).status === 200 ? true : undefined),
    120_000,
    () => `the API to be ready; its output: ${api.output()}`,
  );
  connection = await Connection.connect({ address: cluster.address });
  client = new Client({ connection, namespace: cluster.namespace });
  // Both workers poll every queue before any onboarding starts, so the held reads (on the Graph
  // queue) can land on either of them.
  const queues = [
    { name: TASK_QUEUE, type: WORKFLOW_TASK_QUEUE_TYPE },
    { name: TASK_QUEUE, type: ACTIVITY_TASK_QUEUE_TYPE },
    { name: graphTaskQueue(TASK_QUEUE), type: ACTIVITY_TASK_QUEUE_TYPE },
  ];
  await eventually(async () => {
    for (const queue of queues) {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace: cluster.namespace,
        taskQueue: { name: queue.name },
        taskQueueType: queue.type,
      });
      if (!workers.every((w) => pollers?.some((p) => p.identity?.startsWith(`${w.child.pid}@`)))) return undefined;
    }
    return true;
  }, 120_000, () => `both workers polling every queue; their output:\n${workers.map((w) => w.output()).join('\n---\n')}`);
});

afterAll(async () => {
  await Promise.all([api, ...workers].filter(Boolean).map((p) => p.stop(5_000)));
  await connection?.close();
  await sandbox?.close();
  await cluster?.stop();
  build?.remove();
});

test("the cluster runs the shipped config's history shard count (fixed for its life: docs/operations.md)", async () => {
  const shipped = Number(/^\s*numHistoryShards:\s*(\d+)\s*$/m.exec(readFileSync(path.join(repoRoot, 'deploy/temporal/config/production.yaml'), 'utf8'))?.[1]);
  const { historyShardCount } = await connection.workflowService.getClusterInfo({});
  expect(historyShardCount).toBe(shipped);
  expect(shipped).toBeGreaterThanOrEqual(512);
});

test('the namespace and the search attributes are registered on the cluster', async () => {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: cluster.namespace });
  expect(Object.keys(customAttributes ?? {})).toEqual(
    expect.arrayContaining(['OnboardingStatus', 'WabaId', 'BusinessId', 'OnboardingPath']),
  );
});

test('onboardings survive a SIGKILLed worker and a Temporal server restart, and all reach READY', async () => {
  // Every eligibility read is held 6 s, so reads are in flight on both workers when one is killed.
  sandbox.world.injectFault({ endpoint: 'waba_status', kind: 'latency', latencyMs: 6_000, times: allWabas.length });
  for (const { wabaId, businessId } of allWabas) {
    const res = await apiCall('POST', '/v1/onboardings', { wabaId, businessId, path: 'intent', options: WEBHOOK_ONLY });
    if (res.status !== 201) throw new Error(`POST /v1/onboardings ${wabaId}: ${res.status} ${JSON.stringify(res.body)}\nthe API's output:\n${api.output()}`);
  }

  // Kill whichever worker holds an activity of some onboarding (the matcher decides which one gets what).
  const { victim, held } = await eventually(async () => {
    for (const { wabaId } of allWabas) {
      const { raw } = await client.workflow.getHandle(onboardingWorkflowId(wabaId)).describe();
      for (const a of raw.pendingActivities ?? []) {
        const holder = workers.find((w) => a.lastWorkerIdentity?.startsWith(`${w.child.pid}@`));
        if (holder) return { victim: holder, held: wabaId };
      }
    }
    return undefined;
  }, 60_000, () => `an activity running on a worker; the workers' output:\n${workers.map((w) => w.output()).join('\n---\n')}`);
  survivor = workers.find((w) => w !== victim)!;
  victim.child.kill('SIGKILL');
  expect((await victim.exited).signal).toBe('SIGKILL');
  log(`SIGKILLed worker ${victim.child.pid} while it ran an activity of WABA ${held}`);

  // The killed worker's activities time out and run again on the survivor; everyone reaches the terms wait.
  for (const { wabaId } of allWabas) {
    await eventually(async () => ((await statusOf(wabaId)) === 'AWAITING_TERMS' ? true : undefined), 120_000, `${wabaId} AWAITING_TERMS`);
  }
  const attempts = (await client.workflow.getHandle(onboardingWorkflowId(held)).fetchHistory()).events
    ?.filter((e) => e.activityTaskStartedEventAttributes)
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
  expect(Math.max(...(attempts ?? []))).toBeGreaterThan(1);

  // The API's gauges count them from visibility (what the alerts in docs/operations.md read).
  const gauge = async (line: string) => (await (await fetch(`${apiUrl}/metrics`)).text()).split('\n').includes(line);
  await eventually(async () => ((await gauge(`mm_onboardings{status="AWAITING_TERMS"} ${allWabas.length}`)) ? true : undefined), 30_000, 'the AWAITING_TERMS gauge');
  expect(await gauge('mm_onboardings{status="NEEDS_ATTENTION"} 0')).toBe(true);
  expect(await gauge('mm_onboardings_awaiting_terms_stale 0')).toBe(true);

  // The Temporal server goes down while they wait; Meta's webhooks for the first WABAs arrive then.
  await cluster.stopServer();
  log('Temporal server stopped');
  const [first, second, ...rest] = allWabas;
  // signTerms resolves once its delivery has ended; meanwhile the delivery is in world.deliveries.
  const signing = Promise.all([first, second].map(({ wabaId }) => sandbox.world.signTerms(wabaId)));
  const deliveries = await eventually(async () => {
    const found = sandbox.world.deliveries.filter((d) => d.wabaIds.includes(first.wabaId) || d.wabaIds.includes(second.wabaId));
    return found.length === 2 ? found : undefined;
  }, 10_000, 'the two deliveries to start');
  await waitUntil(() => deliveries.every((d) => d.attempts.some((a) => a.status === 503)), 30_000, 'a 503 for each webhook sent while Temporal is down');
  expect(deliveries.every((d) => d.state === 'pending')).toBe(true);
  await cluster.startServer();
  log('Temporal server started again');
  await signing;
  expect(deliveries.map((d) => [d.state, d.status])).toEqual([['delivered', 200], ['delivered', 200]]);

  for (const { wabaId } of rest) await sandbox.world.signTerms(wabaId);
  for (const { wabaId } of allWabas) {
    await eventually(async () => ((await statusOf(wabaId)) === 'READY' ? true : undefined), 120_000, `${wabaId} READY`);
  }
  // One Intent API request per business, whatever was killed or restarted.
  for (const b of portfolio) expect(sandbox.world.intentRequestCount(b.businessId)).toBe(1);
});

test('GET /v1/onboardings?status=… answers from SQL visibility as it does on the dev server', async () => {
  const expected = await Promise.all(
    allWabas.map(async ({ wabaId }) => {
      const s = (await apiCall('GET', `/v1/onboardings/${wabaId}`)).body;
      return { wabaId, businessId: s.businessId, path: s.path, status: s.status };
    }),
  );
  const rows = (body: any) =>
    (body.onboardings as any[]).map(({ wabaId, businessId, path, status }) => ({ wabaId, businessId, path, status }));
  const byWaba = (a: { wabaId: string }, b: { wabaId: string }) => a.wabaId.localeCompare(b.wabaId);

  // Visibility is eventually consistent: the READY rows show up within moments.
  const ready = await eventually(async () => {
    const res = await apiCall('GET', '/v1/onboardings?status=READY&pageSize=500');
    return res.status === 200 && res.body.onboardings.length === allWabas.length ? res.body : undefined;
  }, 30_000, 'every onboarding listed as READY');
  expect(rows(ready).sort(byWaba)).toEqual([...expected].sort(byWaba));
  expect(ready.onboardings.every((o: any) => o.workflowStatus === 'RUNNING' && typeof o.startTime === 'string')).toBe(true);

  const awaiting = await apiCall('GET', '/v1/onboardings?status=AWAITING_TERMS');
  expect(awaiting).toEqual({ status: 200, body: { onboardings: [] } });

  const oneBusiness = await apiCall('GET', `/v1/onboardings?status=READY&businessId=${portfolio[0].businessId}`);
  expect(rows(oneBusiness.body).map((r) => r.wabaId).sort()).toEqual([...portfolio[0].wabaIds].sort());

  // Paging with Temporal's own token, two rows a page.
  const seen: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < 10; page++) {
    const res = await apiCall('GET', `/v1/onboardings?status=READY&pageSize=2${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
    expect(res.status).toBe(200);
    expect(res.body.onboardings.length).toBeLessThanOrEqual(2);
    seen.push(...res.body.onboardings.map((o: any) => o.wabaId));
    token = res.body.nextPageToken;
    if (!token) break;
  }
  expect(seen.sort()).toEqual(allWabas.map((w) => w.wabaId).sort());

  const bad = await apiCall('GET', '/v1/onboardings?status=SOMETHING');
  expect(bad.status).toBe(400);
});

/**
 * Parked WABAs whose reasons carry what PostgreSQL's `::tsvector` of a Text search attribute refuses
 * (`:`, an unbalanced `'`) and more (`"`, other scripts): the work queue, the summary, the status
 * filter and the gauges all count them as `describe` shows them (issue 33, item 0).
 */
const parked = {
  businessId: '7100000000000009',
  wabas: [
    { wabaId: '7200000000000091', kind: 'token_expired', message: 'Error validating access token: Session has expired on Tuesday, 01-Dec-26 10:00:00 PST.' },
    { wabaId: '7200000000000092', kind: 'token_expired', message: `Error validating access token: the user's session ended "early"` },
    { wabaId: '7200000000000093', kind: 'permission', message: `(#200) Requires whatsapp_business_management permission: l'accès a été refusé « pour l’instant »` },
    { wabaId: '7200000000000094', kind: 'permission', message: '(#200) 権限がありません: ビジネス管理者に "whatsapp_business_management" を依頼してください — Zugriff verweigert' },
  ],
} as const;

test("parked WABAs whose reasons carry ':', quotes and other scripts are listed, summarised and counted as describe shows them", async () => {
  sandbox.world.createBusiness({ id: parked.businessId });
  for (const { wabaId, kind, message } of parked.wabas) {
    sandbox.world.createWaba({ id: wabaId, ownerBusinessId: parked.businessId, autoSign: false });
    sandbox.world.injectFault({ endpoint: 'waba_status', wabaId, kind, message, times: Infinity });
    const res = await apiCall('POST', '/v1/onboardings', { wabaId, businessId: parked.businessId, path: 'manual', options: WEBHOOK_ONLY });
    expect(res.status).toBe(201);
  }
  const described = new Map<string, any>();
  for (const { wabaId, message } of parked.wabas) {
    const state = await eventually(async () => {
      const s = (await apiCall('GET', `/v1/onboardings/${wabaId}`)).body;
      return s?.status === 'NEEDS_ATTENTION' ? s : undefined;
    }, 120_000, `${wabaId} NEEDS_ATTENTION`);
    expect(state.statusReason).toContain(message);
    described.set(wabaId, state);
  }
  const expectedKinds = { expired_token: 2, missing_permission: 2 };

  // The work queue: every parked WABA, with describe's reason word for word.
  const queue = await eventually(async () => {
    const res = await apiCall('GET', `/v1/onboardings?status=NEEDS_ATTENTION&businessId=${parked.businessId}`);
    return res.status === 200 && res.body.onboardings.length === parked.wabas.length ? res.body.onboardings : undefined;
  }, 60_000, () => `every parked WABA listed as NEEDS_ATTENTION (describe says ${parked.wabas.length}); PostgreSQL's errors:\n${cluster.postgresErrors().join('\n')}`);
  for (const row of queue as any[]) {
    const state = described.get(row.wabaId);
    expect(row).toMatchObject({ status: 'NEEDS_ATTENTION', statusReason: state.statusReason, statusSince: state.history.at(-1).at });
  }
  expect(Object.fromEntries(Object.keys(expectedKinds).map((k) => [k, queue.filter((r: any) => r.reasonKind === k).length]))).toEqual(expectedKinds);

  // Every status filter agrees: none of them is still listed as checking its eligibility.
  const checking = await apiCall('GET', `/v1/onboardings?status=CHECKING_ELIGIBILITY&businessId=${parked.businessId}`);
  expect(checking.body).toEqual({ onboardings: [] });

  // The business's summary and the one across every business.
  const summary = (await apiCall('GET', `/v1/onboardings/summary?businessId=${parked.businessId}`)).body;
  expect(summary).toMatchObject({ total: parked.wabas.length, byStatus: { NEEDS_ATTENTION: parked.wabas.length, CHECKING_ELIGIBILITY: 0 }, needsAttentionByKind: expectedKinds });
  const everyone = await eventually(async () => {
    const s = (await apiCall('GET', '/v1/onboardings/summary')).body;
    return s?.byStatus?.NEEDS_ATTENTION === parked.wabas.length ? s : undefined;
  }, 30_000, 'the summary across every business to count the parked WABAs');
  expect(everyone).toMatchObject({ byStatus: { READY: allWabas.length, CHECKING_ELIGIBILITY: 0 }, needsAttentionByKind: expectedKinds });

  // The gauges the NEEDS_ATTENTION alert reads (docs/operations.md).
  const metrics = async () => (await (await fetch(`${apiUrl}/metrics`)).text()).split('\n');
  await eventually(async () => ((await metrics()).includes(`mm_onboardings{status="NEEDS_ATTENTION"} ${parked.wabas.length}`) ? true : undefined), 30_000, 'the NEEDS_ATTENTION gauge');
  expect(await metrics()).toContain('mm_onboardings{status="CHECKING_ELIGIBILITY"} 0');

  // The Web UI's filter is the same visibility query.
  const { count } = await client.workflow.count(`OnboardingStatus = "NEEDS_ATTENTION" AND BusinessId = "${parked.businessId}"`);
  expect(count).toBe(parked.wabas.length);
  // And PostgreSQL refused no visibility row on the way.
  expect(cluster.postgresErrors().filter((line) => /tsvector|visibility/i.test(line))).toEqual([]);
});

test('SIGTERM stops the API and the surviving worker cleanly', async () => {
  const [apiExit, workerExit] = await Promise.all([api.stop(), survivor.stop()]);
  expect(apiExit).toEqual({ code: 0, signal: null });
  expect(workerExit).toEqual({ code: 0, signal: null });
});

test('the webhook benchmark runs on this cluster; its ratio is printed beside the dev server\'s', async () => {
  const bench = async (env: Record<string, string>) => {
    const { stdout } = await run('npx', ['tsx', 'bench/webhooks.ts', '--duration', '5'], {
      cwd: repoRoot,
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'TEMPORAL_ADDRESS')), ...env },
      maxBuffer: 1 << 24,
    });
    const line = stdout.split('\n').find((l) => l.startsWith('receiver / bare throughput'));
    if (!line) throw new Error(`no ratio in the benchmark's output:\n${stdout}`);
    return { line, table: stdout };
  };
  const onCluster = await bench({ TEMPORAL_ADDRESS: cluster.address });
  const onDev = await bench({}); // no TEMPORAL_ADDRESS: the benchmark starts a fresh dev server
  log(`webhook benchmark on the PostgreSQL cluster: ${onCluster.line}`);
  log(`webhook benchmark on the dev server:         ${onDev.line}`);
  log(`(cluster run)\n${onCluster.table}`);
});
