import type { InsightsWindow } from './insights-window';

/**
 * The key of one insights answer (in the reader's memory, and hashed into its read workflow's id):
 * the WABA, the window and the template set, as JSON of the sorted, de-duplicated names, so no list
 * can read as another (joined with `,`, `spring_sale,x` and `spring_sale` + `x` were one key).
 */
export function insightsCacheKey(wabaId: string, window: InsightsWindow): string {
  const templates = window.templates === undefined ? null : [...new Set(window.templates)].sort();
  return JSON.stringify([wabaId, window.since, window.until, templates]);
}
