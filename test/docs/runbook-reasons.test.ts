/**
 * The NEEDS_ATTENTION runbook (docs/operations.md) cites what `statusReason` starts with, kind by
 * kind. Those words must be what the service writes: each cited beginning is matched by a reason
 * built with the workflow's own builders (workflows/attention-reasons.ts) from Graph errors as the
 * client classifies them, and that reason's `reasonKind` is the row's; and every reason the service
 * writes is cited by a row of its kind, the Intent path's included.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { classifyGraphError } from '../../graph';
import { attentionKindOf } from '../../workflows/attention-kinds';
import { attentionReasons as reasons } from '../../workflows/attention-reasons';

const RUNBOOK = readFileSync(path.join(__dirname, '../../docs/operations.md'), 'utf8');

/** Meta's message for a failed call, as the Graph client words it (the activity failure's message). */
const graphMessage = (httpStatus: number, code: number, message: string) =>
  classifyGraphError(httpStatus, { error: { message, type: 'OAuthException', code, fbtrace_id: 'AbC123' } }, {}, { request: 'GET /v24.0/200000000000001' }).message;

const expiredToken = reasons.graphNeedsAttention(graphMessage(400, 190, 'Error validating access token: Session has expired'));
const permission = reasons.graphNeedsAttention(graphMessage(403, 200, 'Requires whatsapp_business_management permission'));
const permission10 = reasons.graphNeedsAttention(graphMessage(403, 10, 'Application does not have permission for this action'));
const refused = reasons.graphRefused(graphMessage(400, 100, 'Invalid parameter'));
const keptFailing = reasons.graphKeptFailing('readOnboardingStatus', graphMessage(500, 2, 'An unexpected error has occurred'));

/** Every kind of reason the service writes, with a realistic inside. */
const WRITTEN = [
  expiredToken,
  permission,
  permission10,
  refused,
  keptFailing,
  // The Intent path: the business's request carries its own Graph reason.
  reasons.intentFailed(expiredToken),
  reasons.intentFailed(permission),
  reasons.intentFailed(refused),
  reasons.intentFailed(reasons.graphKeptFailing('requestIntent', graphMessage(503, 1, 'Service temporarily unavailable'))),
  reasons.intentJoinFailed('Deadline exceeded'),
  reasons.noCloudApiNumber(['+1 555 000 1111 (ON_PREMISE)']),
  reasons.noCloudApiNumber([]),
  reasons.signupTokenLacks(['whatsapp_business_messaging']),
  reasons.signupTokenInvalid(),
  reasons.accountEvent('ACCOUNT_RESTRICTION', 'restriction_type: RESTRICTED_BIZ_INITIATED_MESSAGING'),
  reasons.accountEvent('ACCOUNT_VIOLATION'),
  reasons.accountEvent('DISABLED_UPDATE', 'ban_state: DISABLE'),
  reasons.drift('PENDING_VALID_PAYMENT_METHOD', 'a send', 131055),
  reasons.metaNoLongerOnboarded('PENDING_VALID_PAYMENT_METHOD'),
];

interface Row {
  kinds: string[];
  cited: string[];
}

/** The runbook's reason table: the kinds in its first column, the cited beginnings in its second. */
function runbookRows(): Row[] {
  const section = RUNBOOK.slice(RUNBOOK.indexOf('### An onboarding in NEEDS_ATTENTION'));
  const table = section.slice(section.indexOf('| `reasonKind` |'), section.indexOf('\n\n', section.indexOf('| `reasonKind` |')));
  return table
    .split('\n')
    .slice(2)
    .map((line) => line.split(' | '))
    .map(([kinds, cited]) => ({ kinds: ticked(kinds), cited: ticked(cited) }));
}

const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/** A cited beginning, `…` standing for any words: its first part starts the reason, the others follow in order. */
function matches(cited: string, reason: string): boolean {
  const parts = cited.split('…').map((p) => p.trim()).filter(Boolean);
  if (!reason.startsWith(parts[0])) return false;
  let at = parts[0].length;
  for (const part of parts.slice(1)) {
    const found = reason.indexOf(part, at);
    if (found < 0) return false;
    at = found + part.length;
  }
  return true;
}

test('the runbook has its reason table, every row naming a kind and what the reason starts with', () => {
  const rows = runbookRows();
  expect(rows.length).toBeGreaterThanOrEqual(8);
  for (const row of rows) {
    expect(row.kinds.length).toBeGreaterThan(0);
    expect(row.cited.length).toBeGreaterThan(0);
  }
});

test.each(runbookRows().flatMap((row) => row.cited.map((cited) => [cited, row.kinds.join(', ')] as const)))(
  'the runbook\'s "%s" (%s) is how the service words such a reason, of that kind',
  (cited, kinds) => {
    const written = WRITTEN.filter((reason) => matches(cited, reason));
    expect(written).not.toEqual([]);
    expect(written.map(attentionKindOf).some((kind) => kinds.split(', ').includes(kind))).toBe(true);
  },
);

test.each(WRITTEN.map((reason) => [reason]))('the runbook cites a beginning of "%s" under its kind', (reason) => {
  const kind = attentionKindOf(reason);
  expect(kind).not.toBe('other');
  const rows = runbookRows().filter((row) => row.kinds.includes(kind) && row.cited.some((cited) => matches(cited, reason)));
  expect(rows).not.toEqual([]);
});
