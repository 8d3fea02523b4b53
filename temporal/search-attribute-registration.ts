import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTE_TYPE_NAMES, SEARCH_ATTRIBUTES } from './search-attributes';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const INDEXED_VALUE_TYPES: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.DATETIME]: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/** A value of the attribute's type that no run has: the readiness probe's count matches nothing. */
const PROBE_VALUES: Record<string, string> = {
  [SearchAttributeType.KEYWORD]: `'readiness-probe'`,
  [SearchAttributeType.DATETIME]: `'1970-01-01T00:00:00Z'`,
};

/**
 * Registers the project's custom search attributes on the namespace when missing, and returns once
 * the namespace serves them (see `searchAttributesServed`). The dev server gets them at start-up; a
 * self-hosted server gets them here; Temporal Cloud refuses this call (attributes are managed in its
 * UI / tcld), so the message says what to do instead.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  let missing = SEARCH_ATTRIBUTES;
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    missing = SEARCH_ATTRIBUTES.filter((key) => !(key.name in (customAttributes ?? {})));
    if (missing.length === 0) return [];
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((key) => [key.name, INDEXED_VALUE_TYPES[key.type]]),
      ),
    });
  } catch (err) {
    const names = missing.map((k) => `${k.name} (${SEARCH_ATTRIBUTE_TYPE_NAMES[k.type]})`).join(', ');
    throw new Error(
      `The Temporal server refused to register the search attributes ${names} on namespace "${namespace}": ` +
        `${(err as Error).message}. Add them yourself (Temporal Cloud: Namespace > Search Attributes, or ` +
        `\`tcld namespace search-attributes add\`; self-hosted: \`temporal operator search-attribute create\`).`,
    );
  }
  await waitForSearchAttributes(connection, namespace);
  return missing.map((k) => k.name);
}

const PROBE_DEADLINE_MS = 5_000;

/**
 * Whether the frontend already accepts the attributes. A server caches each namespace's attribute
 * mapping (SQL visibility: about 10 s after registration), and until then starting an onboarding
 * fails with "no mapping defined for search attribute". A visibility count naming every attribute
 * reads the same cache, writes nothing, and answers the attributes still unknown, if any.
 */
export async function searchAttributesServed(
  connection: Pick<Connection, 'workflowService'>,
  namespace: string,
): Promise<{ served: true } | { served: false; reason: string }> {
  try {
    await connection.workflowService.countWorkflowExecutions({
      namespace,
      query: SEARCH_ATTRIBUTES.map((key) => `${key.name} = ${PROBE_VALUES[key.type]}`).join(' OR '),
    });
    return { served: true };
  } catch (err) {
    return { served: false, reason: (err as Error).message };
  }
}

/** Waits (bounded, each probe too) until `searchAttributesServed`. */
export async function waitForSearchAttributes(
  connection: Connection,
  namespace: string,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const probe = await connection.withDeadline(Date.now() + PROBE_DEADLINE_MS, () => searchAttributesServed(connection, namespace));
    if (probe.served) return;
    if (Date.now() >= deadline) {
      throw new Error(`namespace "${namespace}" still does not serve the search attributes: ${probe.reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 500));
  }
}
