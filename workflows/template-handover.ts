/**
 * The tracked templates as one run hands them to the next (continue-as-new). As objects with ISO
 * times a template is ~270 bytes of JSON (2,000 were ~540 KB in every handover); packed as a row of
 * values with epoch-ms times it is a quarter of that, so MAX_TRACKED_TEMPLATES fit one handover well
 * under Temporal's 2 MB payload limit (~650 KB for 10,000; Meta's own ceiling of 6,000 per WABA stays
 * under the 512 KB at which Temporal warns). Pure.
 */
import type { PackedTemplates, TrackedTemplate } from './types';

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Rows of name, language, id, updatedAt, lastSentAt, status ('' for APPROVED), approvedAt, resyncStartedAt,
 * reason, category, upcoming category, upcoming at (the commonest first): '' for absent text, 0 for an absent
 * time, times as ms after `base` plus one (the earliest time in the book), trailing absences left off.
 */
export function packTemplates(templates: readonly TrackedTemplate[]): PackedTemplates {
  const times = templates.flatMap((t) => [t.updatedAt, t.approvedAt, t.lastSentAt, t.resyncStartedAt, t.upcomingCategory?.at]).filter((x): x is string => x !== undefined).map(Date.parse);
  const base = times.length ? times.reduce((a, b) => Math.min(a, b)) - 1 : 0;
  const time = (iso: string | undefined) => (iso === undefined ? 0 : Date.parse(iso) - base);
  return {
    format: 1,
    base,
    rows: templates.map((t) => {
      const row: Array<string | number> = [
        t.name,
        t.language,
        t.id ?? '',
        time(t.updatedAt),
        time(t.lastSentAt),
        t.status === 'APPROVED' ? '' : t.status,
        time(t.approvedAt),
        time(t.resyncStartedAt),
        t.reason ?? '',
        t.category ?? '',
        t.upcomingCategory?.category ?? '',
        time(t.upcomingCategory?.at),
      ];
      while (row.length > 2 && (row[row.length - 1] === '' || row[row.length - 1] === 0)) row.pop(); // trailing absences cost nothing
      return row;
    }),
  };
}

export function unpackTemplates(packed: PackedTemplates): TrackedTemplate[] {
  const base = packed.base ?? 0;
  const iso = (ms: unknown) => (typeof ms === 'number' && ms > 0 ? new Date(base + ms).toISOString() : undefined);
  return packed.rows.map((row) => {
    const [name, language, id, updatedAt, lastSentAt, status, approvedAt, resyncStartedAt, reason, category, upcoming, upcomingAt] = row;
    const t: TrackedTemplate = { name: String(name), language: String(language), status: text(status) ?? 'APPROVED', updatedAt: iso(updatedAt) ?? new Date(0).toISOString() };
    if (text(id) !== undefined) t.id = text(id);
    if (text(reason) !== undefined) t.reason = text(reason);
    if (iso(approvedAt)) t.approvedAt = iso(approvedAt);
    if (iso(lastSentAt)) t.lastSentAt = iso(lastSentAt);
    if (iso(resyncStartedAt)) t.resyncStartedAt = iso(resyncStartedAt);
    if (text(category) !== undefined) t.category = text(category);
    if (text(upcoming) !== undefined) t.upcomingCategory = { category: text(upcoming)!, ...(iso(upcomingAt) ? { at: iso(upcomingAt) } : {}) };
    return t;
  });
}
