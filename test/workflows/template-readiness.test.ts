import {
  applyTemplateStatus,
  isIdle,
  mergeListing,
  recordEverySeconds,
  recordSend,
  sendRecordDue,
  viewTemplate,
} from '../../workflows/template-readiness';
import type { TemplateBook, TrackedTemplate } from '../../workflows/types';

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
