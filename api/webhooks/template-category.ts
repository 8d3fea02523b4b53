/**
 * `template_category_update` changes: Meta recategorised a template, or will. A *completed* change
 * carries `previous_category` and `new_category` (the category now); an *impending* one carries
 * `correct_category` (the category it will get), `category_update_timestamp` (when) and, confusingly,
 * `new_category` holding the *current* category. Only a completed one changes what the onboarding
 * tracks (workflows/template-category.ts).
 */
import { z } from 'zod';
import type { TemplateCategoryChange } from '../../workflows/template-category';

export const TEMPLATE_CATEGORY_FIELD = 'template_category_update';

const templateId = z.union([z.string().regex(/^\d{1,32}$/), z.number().int().nonnegative()]).transform(String);
const category = z.string().min(1).max(64);

const categoryUpdate = z.looseObject({
  message_template_id: templateId.optional(),
  message_template_name: z.string().min(1).max(512),
  message_template_language: z.string().min(1).max(32),
  previous_category: category.optional(),
  new_category: category.optional(),
  correct_category: category.optional(),
  category_update_timestamp: z.union([z.number(), z.string().regex(/^\d{1,12}$/).transform(Number)]).optional().catch(undefined),
});

export type TemplateCategoryAction =
  | { kind: 'template_category'; event: 'CATEGORY_COMPLETED' | 'CATEGORY_IMPENDING'; wabaId: string; signal: TemplateCategoryChange }
  | { kind: 'invalid'; event: string; reason: string };

/** Template webhooks are sent on the WABA: `entry.id` is its id. */
export function templateCategoryAction(wabaId: string, value: unknown): TemplateCategoryAction {
  const parsed = categoryUpdate.safeParse(value);
  if (!parsed.success) return { kind: 'invalid', event: 'unknown', reason: `${TEMPLATE_CATEGORY_FIELD} value has an unexpected shape` };
  const v = parsed.data;
  const template = {
    name: v.message_template_name,
    language: v.message_template_language,
    ...(v.message_template_id !== undefined ? { id: v.message_template_id } : {}),
  };
  if (v.correct_category !== undefined) {
    const at = v.category_update_timestamp;
    return {
      kind: 'template_category',
      event: 'CATEGORY_IMPENDING',
      wabaId,
      signal: {
        kind: 'impending',
        ...template,
        category: v.correct_category.toUpperCase(),
        ...(at !== undefined && Number.isFinite(at) && at > 0 && at < 1e11 ? { at: new Date(at * 1000).toISOString() } : {}),
      },
    };
  }
  if (v.new_category === undefined) return { kind: 'invalid', event: 'unknown', reason: `${TEMPLATE_CATEGORY_FIELD} without new_category or correct_category` };
  return {
    kind: 'template_category',
    event: 'CATEGORY_COMPLETED',
    wabaId,
    signal: {
      kind: 'completed',
      ...template,
      category: v.new_category.toUpperCase(),
      ...(v.previous_category ? { previousCategory: v.previous_category.toUpperCase() } : {}),
    },
  };
}
