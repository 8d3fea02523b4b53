import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config';
import { ensureSearchAttributes } from './search-attributes';
import { createWorkers } from './worker';

/** A worker process on its own, for deployments that scale workers apart from the API. */
async function main() {
  const config = loadConfig();
  const address = config.temporal.address ?? '127.0.0.1:7233';
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  await ensureSearchAttributes(clientConnection, config.temporal.namespace);
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const workers = await createWorkers(config, connection, client);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => workers.shutdown());
  await workers.run();
  await clientConnection.close();
  await connection.close();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
