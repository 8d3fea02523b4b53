/**
 * The send gate (a partner sends a marketing template). A marketing template goes through
 * `/marketing_messages` only when the WABA is READY and the template has been synced to the ad account
 * (workflows/template-readiness.ts); otherwise through Cloud API's `/messages` when the partner asks for that
 * fallback, or not at all (409 with when it will be ready).
 *
 *   readiness of the one template from memory (TemplateReadiness) → decide → Graph (never retried: a
 *   send is not idempotent) → record the send in Temporal only when it starts a re-sync or the daily
 *   refresh is due (batched per WABA).
 */
import { GraphApiError, type GraphClient, type SendEdge } from '../../graph';
import { MAX_TRACKED_TEMPLATES, sendRecordDue, viewTemplate, type SendRecord } from '../../workflows/template-readiness';
import type { TemplateReadinessRead } from '../../workflows/types';
import { ApiError, toApiError } from '../http/errors';
import type { Metrics } from '../ops/metrics';
import type { SendMessageBody } from '../partner/schemas';
import type { TemplateReadiness } from './template-readiness-cache';
import { meansNotOnboarded, type DriftChecks } from './drift-check';
import { MARKETING } from '../../workflows/template-category';

export type SendResult =
  | { route: 'marketing_messages'; messageId: string; graph: unknown }
  | { route: 'cloud_api'; messageId: string; graph: unknown; notReadyReason: string; readyAt?: string };

/** Why a send is refused when the cause is not a plain "not ready yet" (409 not_ready). */
type Refusal = { code: 'not_marketing'; details: { category: string } } | { code: 'not_onboarded_on_meta'; details: { graphCode: number } };
type Decision = { ready: true; record?: SendRecord } | { ready: false; reason: string; readyAt?: string; refusal?: Refusal };

/** Meta refused a `/marketing_messages` send as if the WABA were not onboarded (131055). */
class NotOnboardedOnMeta extends Error {
  constructor(readonly graphCode: number) {
    super(`Meta refused /marketing_messages with ${graphCode}: it does not treat the WABA as onboarded to MM API`);
  }
}

export class SendGate {
  constructor(
    private readonly readiness: TemplateReadiness,
    private readonly graph: GraphClient,
    private readonly metrics: Metrics,
    private readonly drift: DriftChecks,
  ) {}

  /** `timing.graphMs` is set to the time spent waiting for Graph, so callers can tell the gate's own time apart. */
  async send(wabaId: string, request: SendMessageBody, timing: { graphMs?: number } = {}): Promise<SendResult> {
    const { name, language } = request.template;
    // A template approved a moment ago (its webhook just landed) is read, not refused from memory (TemplateReadiness.read).
    let read = await this.readiness.read(wabaId, name, language);
    let decision = decide(read, name, language, Date.now());
    if (decision.ready && decision.record === 'resync' && !(await this.readiness.recordResync(wabaId, name, language))) {
      // Another send started the re-sync first: this one is too early.
      read = await this.readiness.read(wabaId, name, language, { fresh: true });
      decision = decide(read, name, language, Date.now());
      if (decision.ready && decision.record === 'resync') {
        decision = { ready: false, reason: "the template's re-sync after its idle window could not be confirmed; try again" };
      }
    }

    if (decision.ready) {
      const sharing = request.messageActivitySharing ?? read.messageActivitySharing;
      try {
        const answer = await this.deliver('marketing_messages', request, sharing, timing);
        if (decision.record === 'refresh') this.readiness.refreshInBackground(wabaId, name, language);
        return { route: 'marketing_messages', messageId: answer.messageId, graph: answer.body };
      } catch (err) {
        if (!(err instanceof NotOnboardedOnMeta)) throw err;
        // STRICT made Meta refuse instead of carrying it silently through Cloud API: the onboarding re-reads its status.
        this.drift.ask(wabaId, { cause: 'send', graphCode: err.graphCode });
        decision = { ready: false, reason: err.message, refusal: { code: 'not_onboarded_on_meta', details: { graphCode: err.graphCode } } };
      }
    }
    if (request.fallback === 'cloud_api') {
      const answer = await this.deliver('messages', request, undefined, timing);
      return {
        route: 'cloud_api',
        messageId: answer.messageId,
        graph: answer.body,
        notReadyReason: decision.reason,
        ...(decision.readyAt ? { readyAt: decision.readyAt } : {}),
      };
    }
    if (decision.refusal) {
      this.metrics.sends.inc({ route: 'none', outcome: decision.refusal.code });
      throw new ApiError(409, decision.refusal.code, `not sent through /marketing_messages: ${decision.reason}`, decision.refusal.details);
    }
    this.metrics.sends.inc({ route: 'none', outcome: 'not_ready' });
    throw new ApiError(409, 'not_ready', `not safe to send through /marketing_messages yet: ${decision.reason}`, decision.readyAt ? { readyAt: decision.readyAt } : {});
  }

  /**
   * A send the API answers 503 (Temporal unreachable, or no worker of the run's build polling) is
   * counted too, as route none, outcome unavailable: the gate refused it without deciding.
   */
  countIfUnavailable(err: unknown): void {
    if (toApiError(err).status === 503) this.metrics.sends.inc({ route: 'none', outcome: 'unavailable' });
  }

  private async deliver(edge: SendEdge, request: SendMessageBody, sharing: boolean | undefined, timing: { graphMs?: number }) {
    const route = edge === 'marketing_messages' ? 'marketing_messages' : 'cloud_api';
    const asked = performance.now();
    try {
      const answer = await this.graph.sendMessage(edge, request.phoneNumberId, graphMessage(request, sharing, edge));
      this.metrics.sends.inc({ route, outcome: 'sent' });
      return answer;
    } catch (err) {
      if (!(err instanceof GraphApiError)) throw err;
      if (edge === 'marketing_messages' && meansNotOnboarded(err.code)) {
        this.metrics.sends.inc({ route, outcome: 'not_onboarded_on_meta' });
        throw new NotOnboardedOnMeta(err.code!);
      }
      this.metrics.sends.inc({ route, outcome: 'graph_error' });
      throw new ApiError(502, 'graph_error', `Meta refused the send through /${edge}: ${err.message}`, {
        code: err.code ?? null,
        subcode: err.subcode ?? null,
        ...(err.fbtraceId ? { fbtraceId: err.fbtraceId } : {}),
        edge,
      });
    } finally {
      // Summed: a refused /marketing_messages call and the fallback after it both waited on Graph.
      timing.graphMs = (timing.graphMs ?? 0) + performance.now() - asked;
    }
  }
}

/** Whether the template may go through /marketing_messages now, and what that send must record. */
export function decide(book: TemplateReadinessRead, name: string, language: string, now: number): Decision {
  const template = book.template;
  if (!template) {
    if (book.status !== 'READY') return { ready: false, reason: `the onboarding is ${book.status}` };
    const notTracked = book.templatesNotTracked
      ? `; ${book.templatesNotTracked.count} approved template(s) of this WABA are not tracked, past the ${MAX_TRACKED_TEMPLATES} an onboarding tracks (the last: ${book.templatesNotTracked.last.name} (${book.templatesNotTracked.last.language}))`
      : '';
    return { ready: false, reason: `${name} (${language}) is not an approved marketing template of this WABA${notTracked}` };
  }
  const view = viewTemplate(template, book, now);
  if (view.category !== MARKETING) return { ready: false, reason: view.reason!, refusal: { code: 'not_marketing', details: { category: view.category } } };
  if (!view.ready) return { ready: false, reason: view.reason!, ...(view.readyAt ? { readyAt: view.readyAt } : {}) };
  const record = sendRecordDue(template, book, now);
  return record ? { ready: true, record } : { ready: true };
}

/**
 * The Cloud API template message; on MM API plus `message_activity_sharing` when there is a value, and
 * always `product_policy: STRICT`: Meta refuses rather than silently carrying it through Cloud API.
 */
function graphMessage(request: SendMessageBody, sharing: boolean | undefined, edge: SendEdge): Record<string, unknown> {
  const { name, language, components } = request.template;
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: request.to,
    type: 'template',
    template: { name, language: { code: language }, ...(components ? { components } : {}) },
    ...(sharing !== undefined ? { message_activity_sharing: sharing } : {}),
    ...(edge === 'marketing_messages' ? { product_policy: 'STRICT' } : {}),
  };
}
