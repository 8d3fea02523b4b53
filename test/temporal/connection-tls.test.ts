/**
 * The TLS path to Temporal, end to end: a CA made here with openssl signs a server and a client
 * certificate; a TLS endpoint on loopback that demands a client certificate (mTLS, ALPN h2) fronts
 * the suite's dev server; the service's own config (TEMPORAL_TLS_* through @temporalio/envconfig)
 * and its one way to connect (temporal/connection.ts) reach Temporal through it, client and worker alike.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { promisify } from 'node:util';
import { loadConfig } from '../../config';
import { connectClient, connectWorker } from '../../temporal/connection';

const run = promisify(execFile);
let dir: string;
let endpoint: TlsServer;
let address: string;

async function openssl(...args: string[]) {
  await run('openssl', args, { cwd: dir });
}

/** A CA, then a certificate for `name` signed by it (SANs: 127.0.0.1 and localhost). */
async function makeCertificates() {
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=mm-test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const name of ['server', 'client']) {
    await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=mm-test-${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    await openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', `${name}.pem`);
  }
  // A second CA that signed nothing here: trusting it instead must fail.
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=other-ca', '-keyout', 'other.key', '-out', 'other.pem');
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mm-tls-'));
  await makeCertificates();
  const [devHost, devPort] = process.env.TEMPORAL_TEST_ADDRESS!.split(':');
  const file = (f: string) => readFileSync(path.join(dir, f));
  endpoint = createTlsServer(
    { key: file('server.key'), cert: file('server.pem'), ca: file('ca.pem'), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] },
    (tls) => {
      const upstream = tcpConnect(Number(devPort), devHost);
      tls.pipe(upstream).pipe(tls);
      tls.on('error', () => upstream.destroy());
      upstream.on('error', () => tls.destroy());
    },
  );
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  address = `127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => endpoint?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const tlsEnv = (overrides: Record<string, string | undefined> = {}) =>
  loadConfig({
    MM_SANDBOX: 'true',
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'client.pem'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'client.key'),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'ca.pem'),
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
    ...overrides,
  });

test('the API/scripts client and the worker connection reach Temporal over mutual TLS', async () => {
  const config = tlsEnv();
  const client = await connectClient(config);
  try {
    const info = await client.workflowService.getSystemInfo({});
    // The dev server's Temporal Server, as scripts/ensure-temporal.sh pins it.
    const pinned = readFileSync(path.join(__dirname, '..', '..', 'scripts', 'ensure-temporal.sh'), 'utf8').match(/^server_version="([^"]+)"/m)?.[1];
    expect(info.serverVersion).toBe(pinned);
    const { namespaceInfo } = await client.workflowService.describeNamespace({ namespace: 'default' });
    expect(namespaceInfo?.name).toBe('default');
  } finally {
    await client.close();
  }
  const worker = await connectWorker(config);
  await worker.close();
});

test('without a client certificate the endpoint refuses the connection', async () => {
  const config = tlsEnv({ TEMPORAL_TLS_CLIENT_CERT_PATH: undefined, TEMPORAL_TLS_CLIENT_KEY_PATH: undefined });
  expect(config.temporal.connection.tls).not.toHaveProperty('clientCertPair');
  await expect(connectClient(config)).rejects.toThrow();
  await expect(connectWorker(config)).rejects.toThrow();
});

test('a server certificate from a CA the service does not trust is refused', async () => {
  const config = tlsEnv({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'other.pem') });
  await expect(connectClient(config)).rejects.toThrow();
  await expect(connectWorker(config)).rejects.toThrow();
});
