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
  type StartedNpm,
} from './harness/npm-start';

jest.setTimeout(120_000);

afterEach(() => killEverything());
afterAll(() => removeTmpDirs());

async function expectAllPortsFree(s: StartedNpm) {
  for (const port of Object.values(s.ports)) expect(await isPortFree(port)).toBe(true);
}

async function exitWithin(s: StartedNpm, ms: number): Promise<number> {
  return Promise.race([
    s.exited,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`npm start still running after ${ms} ms:\n${s.output()}`)), ms)),
  ]);
}

describe('npm start with a port already taken', () => {
  let holder: Server;
  let connections: number;
  afterEach(() => new Promise<void>((resolve) => holder.close(() => resolve())));

  test.each([
    ['TEMPORAL_DEV_PORT', 'an orphaned dev server or anyone else'],
    ['TEMPORAL_UI_PORT', 'another Web UI'],
    ['PORT', 'another API'],
  ])('with %s taken (%s) it refuses to start, names the port and the variable, and exits 1', async (variable) => {
    const port = (await freePorts()).api;
    connections = 0;
    holder = createServer((socket: Socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));

    const s = await spawnNpmStart({ [variable]: String(port) });
    const code = await exitWithin(s, 60_000);

    expect(code).toBe(1);
    expect(s.output()).toContain(`port ${port} on 127.0.0.1 is already in use (${variable})`);
    expect(s.output()).toContain(`set ${variable} to a free port`);
    // It never talked to whoever holds the port (no workers registered on someone else's server).
    expect(connections).toBe(0);
    expect(s.output()).not.toContain('worker polling');
  });
});

describe('the stack lives and dies as one', () => {
  test('SIGTERM to the npm process alone stops the app and the dev server and frees every port', async () => {
    const s = await spawnNpmStart();
    await waitUntilServing(s);
    const processes = stackProcesses(s);

    process.kill(s.npm.pid!, 'SIGTERM');

    await exitWithin(s, 45_000);
    await waitUntilGone(Object.values(processes));
    expect(s.output()).toContain('SIGTERM: draining the workers and stopping');
    await expectAllPortsFree(s);
  });

  test('SIGKILL of the app process leaves no dev server behind, and npm exits non-zero', async () => {
    const s = await spawnNpmStart();
    await waitUntilServing(s);
    const { app, lifeline, temporal } = stackProcesses(s);

    process.kill(app, 'SIGKILL');

    expect(await exitWithin(s, 15_000)).not.toBe(0);
    await waitUntilGone([lifeline, temporal]);
    await expectAllPortsFree(s);
  });

  test('SIGKILL of npm stops the app and the dev server it left behind', async () => {
    const s = await spawnNpmStart();
    await waitUntilServing(s);
    const processes = stackProcesses(s);

    process.kill(s.npm.pid!, 'SIGKILL');

    await waitUntilGone(Object.values(processes), 45_000);
    await expectAllPortsFree(s);
  });

  test('when the dev server dies, npm start stops everything and exits 1, and /healthz stops answering', async () => {
    const s = await spawnNpmStart();
    await waitUntilServing(s);
    const { app, lifeline, temporal } = stackProcesses(s);
    expect(await healthz(s.ports.api)).toBe(200);

    process.kill(temporal, 'SIGKILL');

    expect(await exitWithin(s, 45_000)).toBe(1);
    expect(s.output()).toContain('the Temporal dev server exited');
    expect(isRunning(app) || isRunning(lifeline)).toBe(false);
    expect(await healthz(s.ports.api)).toBe('refused');
    await expectAllPortsFree(s);
  });
});
