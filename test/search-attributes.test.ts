import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureSearchAttributes } from '../worker/search-attributes';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

let connection: Connection;
beforeAll(async () => {
  connection = await Connection.connect({ address: process.env.TEMPORAL_TEST_ADDRESS! });
});
afterAll(async () => {
  await connection?.close();
});

test('missing search attributes are registered on start, once', async () => {
  const namespace = `sa-${randomUUID()}`;
  await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });

  const added = await ensureSearchAttributes(connection, namespace);
  expect(added.sort()).toEqual(SEARCH_ATTRIBUTES.map((k) => k.name).sort());
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  for (const key of SEARCH_ATTRIBUTES) expect(customAttributes).toHaveProperty(key.name);

  await expect(ensureSearchAttributes(connection, namespace)).resolves.toEqual([]);
});

test('a server that refuses gets a message saying what to do instead', async () => {
  // The namespace does not exist, so the server refuses, as Temporal Cloud refuses the operator call.
  const namespace = `missing-${randomUUID()}`;
  await expect(ensureSearchAttributes(connection, namespace)).rejects.toThrow(
    new RegExp(`refused to register the search attributes OnboardingStatus \\(Keyword\\).* on namespace "${namespace}".*temporal operator search-attribute create`),
  );
});
