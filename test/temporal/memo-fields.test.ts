/**
 * The reason a list row shows travels in the run's memo; a status's standing reason stays out of it
 * (a memo write is a billed action, and the way to READY would write four), and rows read it back.
 */
import { memoReason, rowReason, STANDING_REASONS } from '../../temporal/memo-fields';

test("a status's standing reason is not written to the memo, and a list row still shows it word for word", () => {
  for (const [status, reason] of Object.entries(STANDING_REASONS)) {
    expect(memoReason(status, reason)).toBeUndefined();
    expect(rowReason(status, memoReason(status, reason))).toBe(reason);
  }
});

test('any other reason is written (shortened to a row) and shown as written; no reason shows none', () => {
  expect(memoReason('NEEDS_ATTENTION', 'Graph error 190: the token expired')).toBe('Graph error 190: the token expired');
  expect(rowReason('NEEDS_ATTENTION', 'Graph error 190: the token expired')).toBe('Graph error 190: the token expired');
  // The standing reason of another status is an ordinary reason here.
  expect(memoReason('NEEDS_ATTENTION', STANDING_REASONS.SYNCING_TEMPLATES)).toBe(STANDING_REASONS.SYNCING_TEMPLATES);
  expect(memoReason('SYNCING_TEMPLATES', 'Meta is slow today')).toBe('Meta is slow today');
  expect(memoReason('READY', undefined)).toBeUndefined();
  expect(rowReason('READY', undefined)).toBeUndefined();
  expect(memoReason('NEEDS_ATTENTION', 'x'.repeat(600))).toHaveLength(500);
});
