import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

/**
 * Registers the project's custom search attributes on the namespace when missing. The dev server
 * gets them at start-up; a self-hosted server gets them here; Temporal Cloud refuses this call
 * (attributes are managed in its UI / tcld), so the message says what to do instead.
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
        missing.map((key) => [key.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  } catch (err) {
    const names = missing.map((k) => `${k.name} (Keyword)`).join(', ');
    throw new Error(
      `The Temporal server refused to register the search attributes ${names} on namespace "${namespace}": ` +
        `${(err as Error).message}. Add them yourself (Temporal Cloud: Namespace > Search Attributes, or ` +
        `\`tcld namespace search-attributes add\`; self-hosted: \`temporal operator search-attribute create\`).`,
    );
  }
  return missing.map((k) => k.name);
}
