/**
 * The insights route's shapes (GET /v1/onboardings/:wabaId/insights), as zod schemas: the query is
 * validated with them and /openapi.json is generated from them. No transforms (JSON Schema only).
 */
import { z } from 'zod';
// Meta's names only (lower case letters, digits, _): a `,` can never make one name read as two.
import { templateName } from '../partner/schemas';

export const MAX_WINDOW_DAYS = 90;
export const DEFAULT_WINDOW_DAYS = 30;
/**
 * The days of figures Meta keeps: `template_analytics` (the fallback every read may end on) looks back
 * 90 days; the Marketing API's Insights keep longer (37 months), but a window must be answerable by both.
 */
export const RETENTION_DAYS = 90;
/** More template names than a WABA has marketing templates is a mistake. */
const MAX_TEMPLATE_NAMES = 100;

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD');

export const insightsQuery = z.strictObject({
  since: day
    .optional()
    .describe(
      `First day (UTC, inclusive), YYYY-MM-DD. Default: ${DEFAULT_WINDOW_DAYS - 1} days before \`until\`. ` +
        `Not before the ${RETENTION_DAYS} days Meta keeps (today and the ${RETENTION_DAYS - 1} before it).`,
    ),
  until: day.optional().describe(`Last day (UTC, inclusive), YYYY-MM-DD. Default: today; never after today. At most ${MAX_WINDOW_DAYS} days after \`since\`.`),
  template: z
    .union([templateName, z.array(templateName).min(1).max(MAX_TEMPLATE_NAMES)])
    .optional()
    .describe('A marketing template name to report on; repeat it for several. Default: every marketing template of the WABA.'),
});

export const templateInsights = z.object({
  name: z.string(),
  language: z.string(),
  id: z.string().describe("Meta's template id"),
  adId: z.string().optional().describe('The ad Meta created for the template (the Insights are read on it)'),
  sent: z.number(),
  delivered: z.number(),
  read: z.number(),
  clicks: z.number().describe('Link button clicks'),
  spend: z.number().optional(),
  costPerDelivered: z.number().optional(),
  readRate: z.number().optional(),
  readRateBenchmark: z.number().optional(),
  clickRateBenchmark: z.number().optional(),
  conversions: z
    .record(z.string(), z.number())
    .optional()
    .describe("source insights only: conversion events by Meta's name without the marketing_messages_ prefix, e.g. website_purchase"),
  purchaseValue: z.number().optional(),
});

export const insightsAnswer = z.object({
  wabaId: z.string(),
  since: z.string(),
  until: z.string(),
  source: z
    .enum(['insights', 'template_analytics'])
    .describe("insights: the Marketing API's Insights on each template's ad (ads_read); template_analytics: the WABA's own analytics, no conversions"),
  templates: z.array(templateInsights),
});
