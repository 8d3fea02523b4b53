import {
  applyTemplateStatus,
  MAX_TRACKED_TEMPLATES,
  isIdle,
  mergeListing,
  recordEverySeconds,
  recordSend,
  sendRecordDue,
  viewTemplate,
} from '../../workflows/template-readiness';
import type { TemplateBook, TemplatesNotTracked, TrackedTemplate } from '../../workflows/types';
import { applyTemplateCategory } from '../../workflows/template-category';
import { noteNotTracked } from '../../workflows/template-cap';
import { packTemplates, unpackTemplates } from '../../workflows/template-handover';

/** The readiness rules on their own, with a fixed clock. */
const READY_AT = Date.parse('2026-11-25T10:00:00.000Z');
const GRACE = 600;
const IDLE = 7 * 24 * 3600;
const at = (seconds: number) => READY_AT + seconds * 1000;
const iso = (seconds: number) => new Date(at(seconds)).toISOString();

function book(templates: TrackedTemplate[], over: Partial<TemplateBook> = {}): TemplateBook {
  return {
    wabaId: '1',
    status: 'READY',
    readyAt: iso(0),
    templateSyncGraceSeconds: GRACE,
    templateIdleSeconds: IDLE,
    templates,
    ...over,
  };
}
const listed = (over: Partial<TrackedTemplate> = {}): TrackedTemplate => ({
  name: 'spring_sale',
  language: 'en_US',
  id: '11',
  status: 'APPROVED',
  updatedAt: iso(0),
  ...over,
});

describe('when a template is ready', () => {
  test('a template approved before READY is ready the grace after READY', () => {
    const t = listed();
    expect(viewTemplate(t, book([t]), at(GRACE - 1))).toMatchObject({ ready: false, readyAt: iso(GRACE), reason: expect.stringMatching(/syncing/) });
    expect(viewTemplate(t, book([t]), at(GRACE))).toMatchObject({ ready: true });
  });

  test('a template approved after READY is ready the grace after its approval', () => {
    const t = listed({ approvedAt: iso(3600) });
    expect(viewTemplate(t, book([t]), at(3600 + GRACE - 1))).toMatchObject({ ready: false, readyAt: iso(3600 + GRACE) });
    expect(viewTemplate(t, book([t]), at(3600 + GRACE)).ready).toBe(true);
  });

  test('no template is ready while the WABA is not READY; while syncing, readyAt is known', () => {
    const t = listed();
    expect(viewTemplate(t, book([t], { status: 'NEEDS_ATTENTION' }), at(10 * GRACE))).toEqual(
      expect.objectContaining({ ready: false, reason: 'the onboarding is NEEDS_ATTENTION' }),
    );
    expect(viewTemplate(t, book([t], { status: 'NEEDS_ATTENTION' }), at(10 * GRACE)).readyAt).toBeUndefined();
    expect(viewTemplate(t, book([t], { status: 'SYNCING_TEMPLATES' }), at(0))).toMatchObject({ ready: false, readyAt: iso(GRACE) });
  });

  test('a paused template is not ready and says why', () => {
    const t = listed({ status: 'PAUSED', reason: 'low quality' });
    expect(viewTemplate(t, book([t]), at(10 * GRACE))).toMatchObject({ ready: false, reason: 'PAUSED: low quality' });
  });
});

describe('idle templates and what a send records', () => {
  test('the first send records lastSentAt; later sends within a day record nothing', () => {
    const t = listed();
    const b = book([t]);
    expect(sendRecordDue(t, b, at(GRACE))).toBe('refresh');
    recordSend(t, 'refresh', iso(GRACE));
    expect(sendRecordDue(t, b, at(GRACE + 3600))).toBeUndefined();
    expect(sendRecordDue(t, b, at(GRACE + 24 * 3600))).toBe('refresh');
    expect(recordEverySeconds(IDLE)).toBe(24 * 3600);
  });

  test('a template unused for the idle window is re-synced by its next send, then not ready for the grace', () => {
    const t = listed({ lastSentAt: iso(GRACE) });
    const b = book([t]);
    const reuse = GRACE + IDLE + 1;
    expect(isIdle(t, b, at(reuse))).toBe(true);
    expect(viewTemplate(t, b, at(reuse)).ready).toBe(true); // the reuse itself goes out
    expect(sendRecordDue(t, b, at(reuse))).toBe('resync');
    recordSend(t, 'resync', iso(reuse));
    expect(viewTemplate(t, b, at(reuse + 1))).toMatchObject({ ready: false, readyAt: iso(reuse + GRACE), reason: expect.stringMatching(/re-syncing/) });
    expect(sendRecordDue(t, b, at(reuse + 1))).toBeUndefined();
    expect(viewTemplate(t, b, at(reuse + GRACE)).ready).toBe(true);
  });

  test('a template never sent goes idle counting from its sync', () => {
    const t = listed();
    expect(isIdle(t, book([t]), at(GRACE + IDLE))).toBe(false);
    expect(isIdle(t, book([t]), at(GRACE + IDLE + 1))).toBe(true);
  });
});

describe('webhooks and listings', () => {
  test('a duplicate APPROVED changes nothing; APPROVED after a pause re-adds from that moment', () => {
    const templates = [listed({ approvedAt: iso(100) })];
    applyTemplateStatus(templates, { name: 'spring_sale', language: 'en_US', status: 'APPROVED' }, iso(200));
    expect(templates[0].approvedAt).toBe(iso(100));
    applyTemplateStatus(templates, { name: 'spring_sale', language: 'en_US', status: 'PAUSED', reason: 'low quality' }, iso(300));
    expect(templates[0]).toMatchObject({ status: 'PAUSED', reason: 'low quality' });
    applyTemplateStatus(templates, { name: 'spring_sale', language: 'en_US', status: 'APPROVED' }, iso(400));
    expect(templates[0]).toMatchObject({ status: 'APPROVED', approvedAt: iso(400) });
    expect(templates[0].reason).toBeUndefined();
  });

  test('a webhook newer than a listing wins; send records survive a new listing; unlisted approved ones go', () => {
    const paused = listed({ name: 'paused_during_listing', status: 'PAUSED', updatedAt: iso(5) });
    const sent = listed({ name: 'sent_before', lastSentAt: iso(1), updatedAt: iso(1) });
    const gone = listed({ name: 'deleted_unheard', updatedAt: iso(1) });
    const merged = mergeListing(
      [paused, sent, gone],
      [
        { id: '1', name: 'paused_during_listing', language: 'en_US' },
        { id: '2', name: 'sent_before', language: 'en_US' },
        { id: '3', name: 'brand_new', language: 'en_US' },
      ],
      iso(4),
      iso(6),
    );
    expect(merged.map((t) => [t.name, t.status])).toEqual([
      ['paused_during_listing', 'PAUSED'],
      ['sent_before', 'APPROVED'],
      ['brand_new', 'APPROVED'],
    ]);
    expect(merged[1].lastSentAt).toBe(iso(1));
  });
});

describe('the book at its bound (MAX_TRACKED_TEMPLATES = 10,000)', () => {
  const many = (n: number, over: (i: number) => Partial<TrackedTemplate> = () => ({})) =>
    Array.from({ length: n }, (_, i) => listed({ name: `marketing_template_${i}`, id: String(1_000_000_000_000 + i), updatedAt: iso(i), ...over(i) }));

  test('an approval past the cap makes room by dropping the oldest template not approved, never an approved one', () => {
    const templates = many(MAX_TRACKED_TEMPLATES, (i) => (i === 7 || i === 9 ? { status: 'PAUSED' } : {}));
    expect(applyTemplateStatus(templates, { name: 'new_one', language: 'en_US', status: 'APPROVED' }, iso(20_000))).toBe('changed');
    expect(templates).toHaveLength(MAX_TRACKED_TEMPLATES);
    expect(templates.some((t) => t.name === 'marketing_template_7')).toBe(false);
    expect(templates.some((t) => t.name === 'marketing_template_9')).toBe(true);
    expect(templates.filter((t) => t.status === 'APPROVED')).toHaveLength(MAX_TRACKED_TEMPLATES - 1);
  });

  test('a book full of approved templates takes no more: the approval and a completed category change say not_tracked, and no approved one is dropped', () => {
    const templates = many(MAX_TRACKED_TEMPLATES);
    expect(applyTemplateStatus(templates, { name: 'one_too_many', language: 'en_US', status: 'APPROVED' }, iso(20_000))).toBe('not_tracked');
    expect(applyTemplateCategory(templates, { kind: 'completed', name: 'back_to_marketing', language: 'en_US', category: 'MARKETING' }, iso(20_001))).toBe('not_tracked');
    expect(templates).toHaveLength(MAX_TRACKED_TEMPLATES);
    expect(templates[0].name).toBe('marketing_template_0');
    const process: { templatesNotTracked?: TemplatesNotTracked } = {};
    noteNotTracked(process, { name: 'one_too_many', language: 'en_US' }, iso(20_000));
    noteNotTracked(process, { name: 'back_to_marketing', language: 'en_US' }, iso(20_001));
    expect(process.templatesNotTracked).toEqual({ count: 2, last: { name: 'back_to_marketing', language: 'en_US', at: iso(20_001) } });
  });

  test('a listing past the cap keeps every approved template it can, drops the oldest not approved first, and names the approved ones left out', () => {
    const paused = many(3, (i) => ({ name: `paused_${i}`, status: 'PAUSED', updatedAt: iso(10_000 + i) }));
    const listing = Array.from({ length: MAX_TRACKED_TEMPLATES + 1 }, (_, i) => ({ id: String(i), name: `listed_${i}`, language: 'en_US' }));
    const left: string[] = [];
    const merged = mergeListing(paused, listing, iso(9_000), iso(9_001), (t) => left.push(t.name));
    expect(merged).toHaveLength(MAX_TRACKED_TEMPLATES);
    expect(merged.every((t) => t.status === 'APPROVED')).toBe(true);
    expect(left).toEqual([`listed_${MAX_TRACKED_TEMPLATES}`]);
  });

  test('10,000 templates hand over packed well under 2 MB (as objects 2,000 were ~540 KB) and come back as they were; 6,000 stay under the 512 KB warning', () => {
    const templates = many(MAX_TRACKED_TEMPLATES, (i) => ({
      ...(i % 3 === 0 ? { lastSentAt: iso(i + 1) } : {}),
      ...(i % 50 === 0 ? { resyncStartedAt: iso(i + 2), approvedAt: iso(i) } : {}),
      ...(i % 100 === 1 ? { status: 'PAUSED', reason: 'low quality' } : {}),
      ...(i % 500 === 2 ? { category: 'UTILITY', upcomingCategory: { category: 'MARKETING', at: iso(i + 3) } } : {}),
    }));
    const packed = packTemplates(templates);
    const bytes = Buffer.byteLength(JSON.stringify(packed));
    expect(bytes).toBeLessThan(720 * 1024); // ~650 KB: Temporal refuses from 2 MB (and warns from 512 KB, which Meta's own ceiling of 6,000 stays under)
    expect(bytes * 2).toBeLessThan(Buffer.byteLength(JSON.stringify(templates)));
    expect(unpackTemplates(JSON.parse(JSON.stringify(packed)))).toEqual(templates);
    expect(Buffer.byteLength(JSON.stringify(packTemplates(templates.slice(0, 6_000))))).toBeLessThan(512 * 1024);
  });
});
