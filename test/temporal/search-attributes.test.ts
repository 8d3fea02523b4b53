import { randomUUID } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { healthRouter } from '../../api/ops/health';
import { createMetrics } from '../../api/ops/metrics';
import type { PartnerTokenCheck } from '../../api/ops/meta-token-check';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureSearchAttributes, searchAttributesServed } from '../../temporal/search-attribute-registration';
import { RetiredStatusReasonKey, SEARCH_ATTRIBUTES } from '../../temporal/search-attributes';
import { SearchAttributeType } from '@temporalio/common';

let connection: Connection;
beforeAll(async () => {
  connection = await Connection.connect({ address: process.env.TEMPORAL_TEST_ADDRESS! });
});
afterAll(async () => {
  await connection?.close();
});

test('every attribute registered is a Keyword or a Datetime: no Text, whose indexing (PostgreSQL: ::tsvector) a value can break', () => {
  expect(SEARCH_ATTRIBUTES.filter((key) => key.type !== SearchAttributeType.KEYWORD && key.type !== SearchAttributeType.DATETIME)).toEqual([]);
  expect(SEARCH_ATTRIBUTES.map((k) => k.name)).not.toContain(RetiredStatusReasonKey.name);
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

test('a namespace that does not serve the attributes keeps /readyz at 503 until it does', async () => {
  const namespace = `sa-${randomUUID()}`;
  await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  const tokenOk = { status: async () => ({ kind: 'ok', insightsAvailable: false }) } as unknown as PartnerTokenCheck;
  const app = express().use(healthRouter(new Client({ connection, namespace }), createMetrics(), tokenOk));

  const before = await searchAttributesServed(connection, namespace);
  expect(before).toEqual({ served: false, reason: expect.stringMatching(/OnboardingStatus|WabaId|BusinessId|OnboardingPath|DiscoveryStatus/) });
  const refused = await request(app).get('/readyz');
  expect(refused.status).toBe(503);
  expect(refused.body.error).toEqual({ code: 'search_attributes_unavailable', message: expect.stringContaining('search attributes') });

  await ensureSearchAttributes(connection, namespace);
  // The dev server refreshes its attribute cache on read; a cluster takes about 10 s (test:production).
  expect(await searchAttributesServed(connection, namespace)).toEqual({ served: true });
  expect((await request(app).get('/readyz')).status).toBe(200);
});
