import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

export const HISTORIES_DIR = path.join(__dirname, '..', 'histories');

/**
 * With RECORD_HISTORIES=1, saves a scenario's event history (the proto3 JSON the Temporal UI and CLI
 * export) for the replay test, which then proves later workflow changes still replay it. Recorded
 * histories are committed and not rewritten casually. The workflow code is one path (no `patched`
 * branches): runs are pinned to the build that started them and move to a new build only at
 * continue-as-new (Worker Versioning), so a change that stops a history replaying is one for a new
 * build, and its histories are recorded again from that build.
 */
export async function recordHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  mkdirSync(HISTORIES_DIR, { recursive: true });
  writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), historyToJSON(history));
}

/**
 * The whole event history as text with every payload decoded, so a test can search it for a secret:
 * payload bytes would otherwise hide a plain-text value from a naive search.
 */
export async function historyAsText(handle: WorkflowHandle): Promise<string> {
  const history = await handle.fetchHistory();
  // The client hands payload bytes over base64-encoded (as the UI's JSON export does).
  return JSON.stringify(history, (key, value: unknown) => {
    if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
    if (key === 'data' && typeof value === 'string') return Buffer.from(value, 'base64').toString('utf8');
    return value;
  });
}
