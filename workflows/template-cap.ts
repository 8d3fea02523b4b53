/**
 * How many templates an onboarding tracks, and what happens past that: the oldest not approved make
 * room; an approved one is never dropped silently. Pure.
 */
import type { TemplatesNotTracked, TrackedTemplate } from './types';

/**
 * Above Meta's own ceiling of templates per WABA (6,000 for a verified business). Past it the oldest
 * not approved go first; an approved one is never dropped: one that does not fit is not tracked, and
 * the onboarding says so (`templatesNotTracked`). Packed, 10,000 fit one continue-as-new well under 2 MB.
 */
export const MAX_TRACKED_TEMPLATES = 10_000;

/** What a webhook's change did to the book: nothing, a change, or an approved template that did not fit. */
export type TemplateChangeResult = 'unchanged' | 'changed' | 'not_tracked';

/**
 * Adds a template within MAX_TRACKED_TEMPLATES: at the cap the oldest template not approved makes
 * room. A book full of approved templates takes no more: 'not_tracked' for an approved one (the caller
 * records it), 'unchanged' for another (nothing to send with anyway).
 */
export function admitTemplate(templates: TrackedTemplate[], t: TrackedTemplate): TemplateChangeResult {
  if (templates.length >= MAX_TRACKED_TEMPLATES) {
    const oldest = oldestNotApproved(templates);
    if (oldest < 0) return t.status === 'APPROVED' ? 'not_tracked' : 'unchanged';
    templates.splice(oldest, 1);
  }
  templates.push(t);
  return 'changed';
}

/** Records that an approved template could not be tracked, naming the last one. */
export function noteNotTracked(process: { templatesNotTracked?: TemplatesNotTracked }, t: Pick<TrackedTemplate, 'name' | 'language'>, nowIso: string, count = 1): void {
  process.templatesNotTracked = { count: (process.templatesNotTracked?.count ?? 0) + count, last: { name: t.name, language: t.language, at: nowIso } };
}

/** A merged listing within the cap: the oldest not approved go first; approved ones past it are not tracked (`notTracked`). */
export function capListing(merged: TrackedTemplate[], notTracked: (t: TrackedTemplate) => void): TrackedTemplate[] {
  if (merged.length <= MAX_TRACKED_TEMPLATES) return merged;
  const newestFirst = merged.filter((t) => t.status !== 'APPROVED').sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
  const kept: TrackedTemplate[] = [];
  for (const t of [...merged.filter((t) => t.status === 'APPROVED'), ...newestFirst]) {
    if (kept.length < MAX_TRACKED_TEMPLATES) kept.push(t);
    else if (t.status === 'APPROVED') notTracked(t);
  }
  return kept;
}

function oldestNotApproved(templates: readonly TrackedTemplate[]): number {
  let oldest = -1;
  templates.forEach((t, i) => {
    if (t.status !== 'APPROVED' && (oldest < 0 || t.updatedAt < templates[oldest].updatedAt)) oldest = i;
  });
  return oldest;
}
