/**
 * MM API performance as the sandbox reports it: deterministic daily figures per template (a hash of
 * the template id and the day), served like Meta on both surfaces the service reads:
 *
 * - the Marketing API's `GET /<AD_ID>/insights?fields=marketing_messages_…&time_range={since,until}`
 *   (with `time_increment=1`: a row per day, paged by `limit` and `after`) on each template's ad
 *   (every template of an ONBOARDED WABA has one: `ad_id` on `message_templates`),
 *   figures as strings like Meta's; it needs `ads_read` on the token (else code 200), and in
 *   *deprecated* mode it refuses (code 12), as Meta announced for conversion metrics;
 * - the WhatsApp Business Management API's `GET /<WABA_ID>/template_analytics?start&end&granularity=DAILY
 *   &product_type=marketing_messages_lite_api&metric_types=…&template_ids=[…]` (at most 10 ids), one
 *   data point per template and day.
 *
 * The same days give the same figures on both, so a read that falls back reports the same sends.
 */
import { createHash } from 'node:crypto';
import { MetaError, metaErrors } from './meta-errors';
import type { SandboxTemplate } from './messaging';

const DAY_MS = 86_400_000;
const MAX_ANALYTICS_TEMPLATES = 10;

export interface DailyFigures {
  sent: number;
  delivered: number;
  read: number;
  clicks: number;
  /** USD. */
  spend: number;
  conversions: Record<string, number>;
  /** Purchase values (USD) of website and app purchases. */
  purchaseValues: { website: number; app: number };
  /** Both together: what the service reports as `purchaseValue`. */
  purchaseValue: number;
}

interface InsightsWaba {
  id: string;
  onboardingStatus: string | null;
  templates: SandboxTemplate[];
}

export class SandboxInsights {
  /** Meta has moved conversion metrics off the Insights API: every `/<AD_ID>/insights` call is refused. */
  deprecated = false;

  private readonly adOwners = new Map<string, { waba: InsightsWaba; template: SandboxTemplate }>();

  constructor(
    private readonly wabas: Map<string, InsightsWaba>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A template's ad: Meta creates one per template once the WABA is onboarded (its read-only ad account). */
  adIdOf(waba: InsightsWaba, template: SandboxTemplate): string | undefined {
    return waba.onboardingStatus === 'ONBOARDED' ? `23${template.id.slice(-14).padStart(14, '0')}` : undefined;
  }

  adAccountIdOf(waba: InsightsWaba): string | undefined {
    return waba.onboardingStatus === 'ONBOARDED' ? `act_${waba.id}` : undefined;
  }

  /**
   * The WABA and template behind an ad id, if any. Indexed (a WABA of thousands of templates has as
   * many ads, each read once): an entry is checked on use and the index rebuilt when it is stale or missing.
   */
  ownerOfAd(adId: string): { waba: InsightsWaba; template: SandboxTemplate } | undefined {
    const known = this.adOwners.get(adId);
    if (known && this.wabas.get(known.waba.id) === known.waba && known.waba.templates.includes(known.template) && this.adIdOf(known.waba, known.template) === adId) {
      return known;
    }
    this.adOwners.clear();
    for (const waba of this.wabas.values()) {
      for (const template of waba.templates) {
        const id = this.adIdOf(waba, template);
        if (id && !this.adOwners.has(id)) this.adOwners.set(id, { waba, template });
      }
    }
    return this.adOwners.get(adId);
  }

  /** One template's figures for one UTC day (YYYY-MM-DD); zero for days still to come. */
  daily(templateId: string, day: string): DailyFigures {
    if (Date.parse(`${day}T00:00:00Z`) > this.now()) {
      return { sent: 0, delivered: 0, read: 0, clicks: 0, spend: 0, conversions: {}, purchaseValues: { website: 0, app: 0 }, purchaseValue: 0 };
    }
    const n = createHash('sha256').update(`${templateId}|${day}`).digest().readUInt32BE(0);
    const sent = 200 + (n % 300);
    const delivered = sent - ((n >>> 9) % 20);
    const read = Math.floor((delivered * (55 + ((n >>> 14) % 20))) / 100);
    const clicks = Math.floor((read * (8 + ((n >>> 19) % 8))) / 100);
    const conversions = {
      website_add_to_cart: Math.floor(clicks / 3),
      website_initiate_checkout: Math.floor(clicks / 4),
      website_purchase: Math.floor(clicks / 5),
      app_add_to_cart: Math.floor(clicks / 8),
      app_initiate_checkout: Math.floor(clicks / 10),
      app_purchase: Math.floor(clicks / 12),
    };
    const purchaseValues = { website: cents(conversions.website_purchase * 24.9), app: cents(conversions.app_purchase * 19.9) };
    return { sent, delivered, read, clicks, spend: cents(delivered * 0.0107), conversions, purchaseValues, purchaseValue: cents(purchaseValues.website + purchaseValues.app) };
  }

  /** The figures summed over `since`..`until` (inclusive): what both surfaces report for the window. */
  total(templateId: string, since: string, until: string): DailyFigures {
    const total: DailyFigures = { sent: 0, delivered: 0, read: 0, clicks: 0, spend: 0, conversions: {}, purchaseValues: { website: 0, app: 0 }, purchaseValue: 0 };
    for (const day of daysOf(Date.parse(`${since}T00:00:00Z`), Date.parse(`${until}T00:00:00Z`) + DAY_MS)) {
      const d = this.daily(templateId, day);
      total.sent += d.sent;
      total.delivered += d.delivered;
      total.read += d.read;
      total.clicks += d.clicks;
      total.spend = cents(total.spend + d.spend);
      total.purchaseValues.website = cents(total.purchaseValues.website + d.purchaseValues.website);
      total.purchaseValues.app = cents(total.purchaseValues.app + d.purchaseValues.app);
      total.purchaseValue = cents(total.purchaseValues.website + total.purchaseValues.app);
      for (const [k, v] of Object.entries(d.conversions)) total.conversions[k] = (total.conversions[k] ?? 0) + v;
    }
    return total;
  }

  /** The benchmarks Meta compares the template with (similar businesses): fixed per template. */
  benchmarks(templateId: string): { readRate: number; clickRate: number } {
    const n = createHash('sha256').update(`benchmark|${templateId}`).digest().readUInt32BE(0);
    return { readRate: (50 + (n % 20)) / 100, clickRate: (4 + ((n >>> 8) % 6)) / 100 };
  }

  /**
   * `GET /<AD_ID>/insights`: one row for the whole range, or with `time_increment=1` one row per day
   * that had sends (Meta leaves empty days out); Meta's field names, figures as strings.
   */
  adInsights(
    adId: string,
    query: { fields?: string; time_range?: string; time_increment?: string },
    scopes: string[],
  ): { data: Array<Record<string, string>> } {
    if (this.deprecated) throw insightsDeprecated();
    if (!scopes.includes('ads_read')) throw adsReadMissing();
    const owner = this.ownerOfAd(adId);
    if (!owner) throw metaErrors.unsupported('get', adId);
    const { since, until } = timeRangeOf(query.time_range);
    const fields = (query.fields ?? '').split(',').map((f) => f.trim()).filter(Boolean);
    if (!fields.length) throw metaErrors.invalidParameter('The parameter fields is required');
    if (query.time_increment !== undefined && query.time_increment !== '1' && query.time_increment !== 'all_days') {
      throw metaErrors.invalidParameter('time_increment must be 1 (daily) or all_days');
    }
    const ranges =
      query.time_increment === '1'
        ? daysOf(Date.parse(`${since}T00:00:00Z`), Date.parse(`${until}T00:00:00Z`) + DAY_MS).map((day) => ({ since: day, until: day }))
        : [{ since, until }];
    const data: Array<Record<string, string>> = [];
    for (const range of ranges) {
      const row = this.adInsightsRow(owner.template.id, range, fields);
      if (row) data.push(row);
    }
    return { data };
  }

  private adInsightsRow(templateId: string, range: { since: string; until: string }, fields: string[]): Record<string, string> | undefined {
    const total = this.total(templateId, range.since, range.until);
    if (total.sent === 0) return undefined;
    const bench = this.benchmarks(templateId);
    const all: Record<string, number> = {
      marketing_messages_sent: total.sent,
      marketing_messages_delivered: total.delivered,
      marketing_messages_read: total.read,
      marketing_messages_link_btn_click: total.clicks,
      marketing_messages_spend: total.spend,
      marketing_messages_cost_per_delivered: round(total.spend / total.delivered),
      marketing_messages_read_rate: round(total.read / total.delivered),
      marketing_messages_read_rate_benchmark: bench.readRate,
      marketing_messages_click_rate_benchmark: bench.clickRate,
      marketing_messages_website_purchase_values: total.purchaseValues.website,
      marketing_messages_app_purchase_values: total.purchaseValues.app,
      ...Object.fromEntries(Object.entries(total.conversions).map(([k, v]) => [`marketing_messages_${k}`, v])),
    };
    const row: Record<string, string> = {};
    for (const f of fields) {
      if (!(f in all)) throw metaErrors.invalidParameter(`(#100) ${f} is not valid for fields param`);
      row[f] = String(all[f]);
    }
    return { ...row, date_start: range.since, date_stop: range.until };
  }

  /** `GET /<WABA_ID>/template_analytics`: daily data points of MM API sends, per template. */
  templateAnalytics(wabaId: string, query: Record<string, string | undefined>): Record<string, unknown> {
    const waba = this.wabas.get(wabaId);
    if (!waba) throw metaErrors.unsupported('get', wabaId);
    const start = Number(query.start);
    const end = Number(query.end);
    if (!Number.isInteger(start) || !Number.isInteger(end) || end <= start) throw metaErrors.invalidParameter('start and end must be Unix times, end after start');
    if (query.granularity !== 'DAILY') throw metaErrors.invalidParameter('granularity must be DAILY');
    if (query.product_type !== 'marketing_messages_lite_api') throw metaErrors.invalidParameter('product_type must be marketing_messages_lite_api for MM API sends');
    if (!query.metric_types) throw metaErrors.invalidParameter('The parameter metric_types is required');
    let ids: unknown;
    try {
      ids = JSON.parse(query.template_ids ?? '');
    } catch {
      ids = undefined;
    }
    if (!Array.isArray(ids) || ids.length === 0) throw metaErrors.invalidParameter('template_ids must be a JSON array of template ids');
    if (ids.length > MAX_ANALYTICS_TEMPLATES) throw metaErrors.invalidParameter(`(#100) template_ids takes at most ${MAX_ANALYTICS_TEMPLATES} ids`);
    const templates = waba.templates.filter((t) => ids.map(String).includes(t.id));
    const points = templates.flatMap((t) =>
      daysOf(start * 1000, end * 1000).map((day) => {
        const d = this.daily(t.id, day);
        const dayStart = Date.parse(`${day}T00:00:00Z`) / 1000;
        return {
          template_id: t.id,
          start: dayStart,
          end: dayStart + DAY_MS / 1000,
          sent: d.sent,
          delivered: d.delivered,
          read: d.read,
          clicked: [{ type: 'url_button', button_content: 'Shop now', count: d.clicks }],
          cost: [
            { type: 'amount_spent', value: d.spend },
            { type: 'cost_per_delivered', value: d.delivered ? round(d.spend / d.delivered) : 0 },
          ],
        };
      }),
    );
    return { data: [{ granularity: 'DAILY', product_type: 'marketing_messages_lite_api', data_points: points }] };
  }
}

/** The UTC days that start in [fromMs, toMs). */
function daysOf(fromMs: number, toMs: number): string[] {
  const days: string[] = [];
  const first = Math.ceil(fromMs / DAY_MS) * DAY_MS;
  for (let t = first; t < toMs && days.length < 400; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

function timeRangeOf(raw: string | undefined): { since: string; until: string } {
  let range: { since?: unknown; until?: unknown } | undefined;
  try {
    range = JSON.parse(raw ?? '');
  } catch {
    range = undefined;
  }
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (!range || typeof range.since !== 'string' || typeof range.until !== 'string' || !day.test(range.since) || !day.test(range.until)) {
    throw metaErrors.invalidParameter('time_range must be {"since":"YYYY-MM-DD","until":"YYYY-MM-DD"}');
  }
  return { since: range.since, until: range.until };
}

const cents = (n: number) => Math.round(n * 100) / 100;
const round = (n: number) => Math.round(n * 1e4) / 1e4;

const adsReadMissing = () =>
  new MetaError(400, { message: '(#200) Requires ads_read permission to read the insights of this ad', type: 'OAuthException', code: 200 });

const insightsDeprecated = () =>
  new MetaError(400, {
    message:
      '(#12) Conversion metrics of marketing messages are no longer available through the Ads Insights API; use the WhatsApp Business Management API',
    type: 'OAuthException',
    code: 12,
  });
