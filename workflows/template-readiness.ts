/**
 * When a marketing template is safe to send through /marketing_messages (the seed's template-to-ad-
 * account sync rule), as pure functions of what the onboarding tracks. The workflow keeps the facts;
 * the send gate in the API reads them from a query and applies the same rules with its own clock.
 *
 * - A template is ready `templateSyncGraceSeconds` after the later of the WABA's READY and its approval.
 * - One unused for `templateIdleSeconds` is re-synced by Meta on its next send: that send goes out (it is
 *   the reuse Meta needs) and the template is not ready again until the grace after it has passed.
 * - Sends are recorded at most once per `recordEverySeconds` (a day by default), plus the send that
 *   starts a re-sync: a send is not a Temporal write of its own.
 */
import type { TemplateBookHeader, TrackedTemplate } from './types';
import { admitTemplate, capListing, type TemplateChangeResult } from './template-cap';
import { categoryOf, MARKETING } from './template-category';

export { MAX_TRACKED_TEMPLATES, type TemplateChangeResult } from './template-cap';

/** What partners read (GET .../templates): whether the template is safe to send through MM API now. */
export interface TemplateView {
  name: string;
  language: string;
  id?: string;
  status: string;
  /** Meta's category: MARKETING, or what Meta recategorised it to (then it is not ready). */
  category: string;
  ready: boolean;
  /** An impending category change Meta announced (`template_category_update`): when it takes effect. */
  categoryChangeAt?: string;
  /** When a not-ready template will be ready, where that is known. */
  readyAt?: string;
  /** Why it is not ready. */
  reason?: string;
  lastSentAt?: string;
}

/** A `message_template_status_update`, as the webhook receiver hands it to the onboarding. */
export interface TemplateStatusChange {
  name: string;
  language: string;
  id?: string;
  /** Meta's event: APPROVED, PAUSED, DISABLED, REJECTED, PENDING_DELETION, DELETED, ... */
  status: string;
  reason?: string;
}

/** What a send asks the onboarding to record, if anything. */
export type SendRecord = 'resync' | 'refresh';

const DAY_SECONDS = 24 * 3600;


/** How often sends of one template are recorded: daily, or a seventh of a shorter idle window. */
export const recordEverySeconds = (idleSeconds: number) => Math.min(DAY_SECONDS, idleSeconds / 7);

export const templateKey = (name: string, language: string) => `${name}\u0000${language}`;

export function findTemplate(templates: readonly TrackedTemplate[], name: string, language: string): TrackedTemplate | undefined {
  return templates.find((t) => t.name === name && t.language === language);
}

const ms = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));

/** When Meta's latest sync of the template is done (epoch ms); undefined while the WABA's READY is unknown. */
export function syncedAt(t: TrackedTemplate, book: Pick<TemplateBookHeader, 'readyAt' | 'templateSyncGraceSeconds'>): number | undefined {
  const wabaReady = ms(book.readyAt);
  if (wabaReady === undefined) return undefined;
  const grace = book.templateSyncGraceSeconds * 1000;
  let at = Math.max(wabaReady, ms(t.approvedAt) ?? 0) + grace;
  const resync = ms(t.resyncStartedAt);
  if (resync !== undefined) at = Math.max(at, resync + grace);
  return at;
}

/** True when the template has gone unused for the idle window: its next send starts Meta's re-sync. */
export function isIdle(t: TrackedTemplate, book: TemplateBookHeader, now: number): boolean {
  const synced = syncedAt(t, book);
  if (synced === undefined || now < synced) return false;
  const lastUse = Math.max(synced, ms(t.lastSentAt) ?? 0);
  return now - lastUse > book.templateIdleSeconds * 1000;
}

export function viewTemplate(t: TrackedTemplate, book: TemplateBookHeader, now: number): TemplateView {
  const base = {
    name: t.name,
    language: t.language,
    ...(t.id !== undefined ? { id: t.id } : {}),
    status: t.status,
    category: categoryOf(t),
    ...(t.upcomingCategory?.at !== undefined ? { categoryChangeAt: t.upcomingCategory.at } : {}),
    ...(t.lastSentAt !== undefined ? { lastSentAt: t.lastSentAt } : {}),
  };
  if (base.category !== MARKETING) {
    return { ...base, ready: false, reason: `Meta recategorised the template as ${base.category}: /marketing_messages takes marketing templates only` };
  }
  if (t.status !== 'APPROVED') {
    return { ...base, ready: false, reason: t.reason ? `${t.status}: ${t.reason}` : t.status };
  }
  const synced = syncedAt(t, book);
  const readyAt = synced === undefined ? {} : { readyAt: new Date(synced).toISOString() };
  if (book.status !== 'READY') {
    return { ...base, ready: false, reason: `the onboarding is ${book.status}`, ...(book.status === 'SYNCING_TEMPLATES' ? readyAt : {}) };
  }
  if (synced === undefined || now < synced) {
    const resyncing = t.resyncStartedAt !== undefined && ms(t.resyncStartedAt)! + book.templateSyncGraceSeconds * 1000 === synced;
    const reason = resyncing
      ? `Meta is re-syncing the template to the ad account after more than ${book.templateIdleSeconds} s unused`
      : 'Meta is syncing the template to the ad account';
    return { ...base, ready: false, reason, ...readyAt };
  }
  return { ...base, ready: true };
}

/** What a send of a ready template must record: the re-sync it starts, a daily refresh, or nothing. */
export function sendRecordDue(t: TrackedTemplate, book: TemplateBookHeader, now: number): SendRecord | undefined {
  if (!viewTemplate(t, book, now).ready) return undefined;
  if (isIdle(t, book, now)) return 'resync';
  const last = ms(t.lastSentAt);
  if (last === undefined || now - last >= recordEverySeconds(book.templateIdleSeconds) * 1000) return 'refresh';
  return undefined;
}

/** Applies a webhook's status change. Duplicates change nothing; APPROVED after another status re-adds. */
export function applyTemplateStatus(templates: TrackedTemplate[], change: TemplateStatusChange, nowIso: string): TemplateChangeResult {
  const existing =
    (change.id !== undefined ? templates.find((t) => t.id === change.id) : undefined) ?? findTemplate(templates, change.name, change.language);
  if (!existing) {
    return admitTemplate(templates, {
      name: change.name,
      language: change.language,
      ...(change.id !== undefined ? { id: change.id } : {}),
      status: change.status,
      ...(change.status === 'APPROVED' ? { approvedAt: nowIso } : change.reason ? { reason: change.reason } : {}),
      updatedAt: nowIso,
    });
  }
  if (existing.status === change.status && existing.reason === (change.status === 'APPROVED' ? undefined : change.reason)) return 'unchanged';
  if (change.status === 'APPROVED') {
    if (existing.status !== 'APPROVED') existing.approvedAt = nowIso;
    delete existing.reason;
  } else if (change.reason) {
    existing.reason = change.reason;
  } else {
    delete existing.reason;
  }
  existing.status = change.status;
  if (change.id !== undefined) existing.id = change.id;
  existing.updatedAt = nowIso;
  return 'changed';
}

/**
 * Merges a listing of the WABA's approved marketing templates (read when it becomes READY) into what is
 * tracked. A webhook heard after the listing began is newer than it and wins; send records are kept.
 */
export function mergeListing(
  templates: readonly TrackedTemplate[],
  listed: ReadonlyArray<{ id: string; name: string; language: string }>,
  listingStartedAt: string,
  nowIso: string,
  notTracked: (t: TrackedTemplate) => void = () => undefined,
): TrackedTemplate[] {
  const newer = (t: TrackedTemplate) => t.updatedAt >= listingStartedAt;
  const byKey = new Map(templates.map((t) => [templateKey(t.name, t.language), t]));
  const merged: TrackedTemplate[] = [];
  const seen = new Set<string>();
  for (const l of listed) {
    const key = templateKey(l.name, l.language);
    if (seen.has(key)) continue;
    seen.add(key);
    const e = byKey.get(key);
    if (e && newer(e)) {
      merged.push(e);
      continue;
    }
    merged.push({
      name: l.name,
      language: l.language,
      id: l.id,
      status: 'APPROVED',
      // Approved before this listing: unknown when, so the WABA's READY is the later time. One we knew
      // in another status was approved again meanwhile: from now.
      ...(e?.status === 'APPROVED' ? (e.approvedAt ? { approvedAt: e.approvedAt } : {}) : e ? { approvedAt: nowIso } : {}),
      ...(e?.lastSentAt ? { lastSentAt: e.lastSentAt } : {}),
      ...(e?.resyncStartedAt ? { resyncStartedAt: e.resyncStartedAt } : {}),
      updatedAt: nowIso,
    });
  }
  // Not listed: an approved one no longer is (deleted or paused unheard); others keep their reason.
  for (const [key, e] of byKey) if (!seen.has(key) && (newer(e) || e.status !== 'APPROVED')) merged.push(e);
  return capListing(merged, notTracked);
}

/** Records a send the gate made (the validator has checked `sendRecordDue`). */
export function recordSend(t: TrackedTemplate, record: SendRecord, nowIso: string): void {
  t.lastSentAt = nowIso;
  if (record === 'resync') t.resyncStartedAt = nowIso;
  t.updatedAt = nowIso;
}
