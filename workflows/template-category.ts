/**
 * Meta recategorises templates (`template_category_update`), and `/marketing_messages` refuses one
 * that is no longer MARKETING. A *completed* change (it carries `previous_category`) is the template's
 * category from now on; an *impending* one (it carries `correct_category` and a date) changes nothing
 * yet and is only shown. Pure: the workflow applies these, the send gate reads the result.
 */
import type { TrackedTemplate } from './types';
import { admitTemplate, type TemplateChangeResult } from './template-cap';

export const MARKETING = 'MARKETING';

/** A `template_category_update`, as the webhook receiver hands it to the onboarding. */
export type TemplateCategoryChange =
  | { kind: 'completed'; name: string; language: string; id?: string; category: string; previousCategory?: string }
  | { kind: 'impending'; name: string; language: string; id?: string; category: string; at?: string };

/** The template's category as tracked (tracked templates are MARKETING unless Meta changed one). */
export const categoryOf = (t: Pick<TrackedTemplate, 'category'>): string => t.category ?? MARKETING;

/**
 * Applies the change to the tracked templates. A completed change away from MARKETING makes the
 * template not sendable through MM API; one back to MARKETING makes it so again once Meta has synced it
 * (its approval time restarts the grace). A completed change to MARKETING of a template not tracked
 * adds it, as an approved one from now. Duplicates change nothing.
 */
export function applyTemplateCategory(templates: TrackedTemplate[], change: TemplateCategoryChange, nowIso: string): TemplateChangeResult {
  const existing =
    (change.id !== undefined ? templates.find((t) => t.id === change.id) : undefined) ?? templates.find((t) => t.name === change.name && t.language === change.language);
  if (change.kind === 'impending') {
    if (!existing || categoryOf(existing) === change.category) return 'unchanged';
    if (existing.upcomingCategory?.category === change.category && existing.upcomingCategory.at === change.at) return 'unchanged';
    existing.upcomingCategory = { category: change.category, ...(change.at ? { at: change.at } : {}) };
    existing.updatedAt = nowIso;
    return 'changed';
  }
  if (!existing) {
    if (change.category !== MARKETING) return 'unchanged'; // never tracked: nothing to refuse
    // Within the cap, as a status webhook's approval (template-readiness.ts).
    return admitTemplate(templates, {
      name: change.name,
      language: change.language,
      ...(change.id !== undefined ? { id: change.id } : {}),
      status: 'APPROVED',
      approvedAt: nowIso,
      updatedAt: nowIso,
    });
  }
  const before = categoryOf(existing);
  if (before === change.category && existing.upcomingCategory === undefined) return 'unchanged';
  delete existing.upcomingCategory;
  if (change.category === MARKETING) {
    delete existing.category;
    // Back to marketing: Meta syncs it to the ad account again before MM API takes it.
    if (before !== MARKETING) existing.approvedAt = nowIso;
  } else {
    existing.category = change.category;
  }
  if (change.id !== undefined) existing.id = change.id;
  existing.updatedAt = nowIso;
  return 'changed';
}
