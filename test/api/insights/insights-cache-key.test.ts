/** The insights answer's key (issue 33): one key per WABA, window and template set, and never one for two. */
import { insightsCacheKey } from '../../../api/insights/insights-cache-key';

const window = { since: '2026-11-01', until: '2026-11-30' };

test('a name with a comma and the two names it joins are two keys (joined with `,` they were one)', () => {
  expect(insightsCacheKey('200000000000001', { ...window, templates: ['spring_sale,x'] })).not.toBe(
    insightsCacheKey('200000000000001', { ...window, templates: ['spring_sale', 'x'] }),
  );
  // Nor can a list pose as no list (every template).
  expect(insightsCacheKey('1', window)).not.toBe(insightsCacheKey('1', { ...window, templates: ['*'] }));
  expect(insightsCacheKey('1', window)).not.toBe(insightsCacheKey('1', { ...window, templates: [] }));
});

test('the same set in another order or with repeats is the same key', () => {
  expect(insightsCacheKey('1', { ...window, templates: ['b', 'a', 'b'] })).toBe(insightsCacheKey('1', { ...window, templates: ['a', 'b'] }));
});
