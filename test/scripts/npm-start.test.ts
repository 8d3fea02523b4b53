/**
 * `npm start` as a new user and a process manager meet it: real `npm start` process trees on free
 * ports with a temporary data dir, killed in the ways supervisors, IDEs and crashes kill them.
 */
import { createServer, type Server, type Socket } from 'node:net';
import {
  healthz,
  isPortFree,
  isRunning,
  killEverything,
  removeTmpDirs,
  spawnNpmStart,
  stackProcesses,
  waitUntilGone,
  waitUntilServing,
  freePorts,
  exitWithin,
  type StartedNpm,
} from '../harness/npm-start';

jest.setTimeout(120_000);

afterAll(() => killEverything());
afterAll(() => removeTmpDirs());

async function expectAllPortsFree(s: StartedNpm) {
  for (const port of Object.values(s.ports)) expect(await isPortFree(port)).toBe(true);
}


describe('npm start with a port already taken', () => {
  const holders: Server[] = [];
  afterAll(() => Promise.all(holders.map((h) => new Promise((resolve) => h.close(resolve)))));

  /** A plain TCP listener on a free port, counting who connects to it. */
  async function takePort(): Promise<{ port: number; connections: () => number }> {
    const port = (await freePorts()).api;
    let connections = 0;
    const holder = createServer((socket: Socket) => {
      connections++;
      socket.destroy();
    });
    holders.push(holder);
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    return { port, connections: () => connections };
  }

  // The three cases run side by side: each is a cold start of node and the SDK's modules.
  test('with TEMPORAL_DEV_PORT, TEMPORAL_UI_PORT or PORT taken it refuses to start, names the port and the variable, exits 1 and never talks to that port', async () => {
    const cases = await Promise.all(
      ['TEMPORAL_DEV_PORT', 'TEMPORAL_UI_PORT', 'PORT'].map(async (variable) => {
        const taken = await takePort();
        const s = await spawnNpmStart({ [variable]: String(taken.port) });
        return { variable, taken, s, code: await exitWithin(s, 90_000) };
      }),
    );
    for (const { variable, taken, s, code } of cases) {
      expect({ variable, code }).toEqual({ variable, code: 1 });
      expect(s.output()).toContain(`port ${taken.port} on 127.0.0.1 is already in use (${variable})`);
      expect(s.output()).toContain(`set ${variable} to a free port`);
      // It never talked to whoever holds the port (no workers registered on someone else's server).
      expect({ variable, connections: taken.connections() }).toEqual({ variable, connections: 0 });
      expect(s.output()).not.toContain('worker polling');
    }
  });
});

// Side by side, each on its own ports and data dir: four sequential stack starts are too slow for npm test.
describe('the stack lives and dies as one', () => {
  test.concurrent('SIGTERM to the npm process alone stops the app and the dev server and frees every port', async () => {
    const workerMetricsPort = (await freePorts()).api;
    const s = await spawnNpmStart({ WORKER_METRICS_PORT: String(workerMetricsPort) });
    await waitUntilServing(s);
    const processes = stackProcesses(s);
    // The metrics of the split deployment, in one process: the workers' on WORKER_METRICS_PORT, the
    // API's on /metrics, neither on the other's (deploy/prometheus/ reads the same names in both shapes).
    const workerMetrics = await (await fetch(`http://127.0.0.1:${workerMetricsPort}/metrics`)).text();
    expect(workerMetrics).toMatch(/^mm_graph_usage_percent\{[^}]*header="app"[^}]*\} /m);
    expect(workerMetrics).toMatch(/^mm_graph_allowed_calls_per_second(\{[^}]*\})? /m);
    expect(workerMetrics).toMatch(/^mm_graph_slowed_businesses(\{[^}]*\})? /m);
    const apiMetrics = await (await fetch(`http://127.0.0.1:${s.ports.api}/metrics`)).text();
    expect(apiMetrics).toMatch(/^mm_onboardings\{status="READY"\} /m);
    // The usage gauges are the workers' alone (the API counts only its own sends' Graph errors).
    expect(apiMetrics).not.toMatch(/^mm_graph_(usage_percent|allowed_calls_per_second|slowed_businesses)/m);
    // A quiet start in sandbox mode: the banner, and no line that is no news (the Graph queue's
    // worker has no workflows by design; the sandbox's own token's permissions say nothing).
    expect(s.output()).toContain('SANDBOX MODE');
    expect(s.output()).not.toContain('No workflows registered');
    expect(s.output()).not.toContain('META_ACCESS_TOKEN permissions');

    process.kill(s.npm.pid!, 'SIGTERM');

    await exitWithin(s, 45_000);
    await waitUntilGone(Object.values(processes));
    expect(s.output()).toContain('SIGTERM: draining the workers and stopping');
    await expectAllPortsFree(s);
    expect(await isPortFree(workerMetricsPort)).toBe(true);
  });

  test.concurrent('SIGKILL of the app process leaves no dev server behind, and npm exits non-zero', async () => {
    const s = await spawnNpmStart();
    await waitUntilServing(s);
    const { app, lifeline, temporal } = stackProcesses(s);

    process.kill(app, 'SIGKILL');

    expect(await exitWithin(s, 15_000)).not.toBe(0);
    await waitUntilGone([lifeline, temporal]);
    await expectAllPortsFree(s);
  });

  test.concurrent('SIGKILL of npm stops the app and the dev server it left behind', async () => {
    const s = await spawnNpmStart();
    await waitUntilServing(s);
    const processes = stackProcesses(s);

    process.kill(s.npm.pid!, 'SIGKILL');

    await waitUntilGone(Object.values(processes), 45_000);
    await expectAllPortsFree(s);
  });

  test.concurrent('when the dev server dies, npm start stops everything and exits 1, and /healthz stops answering', async () => {
    const s = await spawnNpmStart();
    await waitUntilServing(s);
    const { app, lifeline, temporal } = stackProcesses(s);

    const killedAt = Date.now();
    process.kill(temporal, 'SIGKILL');

    expect(await exitWithin(s, 45_000)).toBe(1);
    if (!s.output().includes('the Temporal dev server exited')) {
      const { npm, output } = s.exitTimes();
      throw new Error(
        `npm start exited 1 without naming the dead dev server (npm exited ${npm! - killedAt} ms after the kill, ` +
          `its output closed ${output! - killedAt} ms after it):\n${s.output()}`,
      );
    }
    expect(isRunning(app) || isRunning(lifeline)).toBe(false);
    expect(await healthz(s.ports.api)).toBe('refused');
    await expectAllPortsFree(s);
  });
});
