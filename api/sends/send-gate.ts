/**
 * The send gate (a partner sends a marketing template). A marketing template goes through
 * `/marketing_messages` only when the WABA is READY and the template has been synced to the ad account
 * (workflows/template-readiness.ts); otherwise through Cloud API's `/messages` when the partner asks for that
 * fallback, or not at all (409 with when it will be ready).
 *
 *   readiness from memory (TemplateReadiness) → decide → Graph (never retried: a send is not
 *   idempotent) → record the send in Temporal only when it starts a re-sync or the daily refresh is due.
 */
import { GraphApiError, type GraphClient, type SendEdge } from '../../graph';
import { findTemplate, sendRecordDue, viewTemplate, type SendRecord } from '../../workflows/template-readiness';
import type { TemplateBook } from '../../workflows/types';
import { ApiError } from '../http/errors';
import type { Metrics } from '../ops/metrics';
import type { SendMessageBody } from '../partner/schemas';
import type { TemplateReadiness } from './template-readiness-cache';

export type SendResult =
  | { route: 'marketing_messages'; messageId: string; graph: unknown }
  | { route: 'cloud_api'; messageId: string; graph: unknown; notReadyReason: string; readyAt?: string };

type Decision = { ready: true; record?: SendRecord } | { ready: false; reason: string; readyAt?: string };

export class SendGate {
  constructor(
    private readonly readiness: TemplateReadiness,
    private readonly graph: GraphClient,
    private readonly metrics: Metrics,
  ) {}

  /** `timing.graphMs` is set to the time spent waiting for Graph, so callers can tell the gate's own time apart. */
  async send(wabaId: string, request: SendMessageBody, timing: { graphMs?: number } = {}): Promise<SendResult> {
    const { name, language } = request.template;
    let book = await this.readiness.book(wabaId);
    // A template approved since the book was read (its webhook a moment ago) is not in it: ask once
    // more, so the answer says when it will be ready, as the template route does.
    if (!findTemplate(book.templates, name, language)) book = await this.readiness.book(wabaId, { fresh: true });
    let decision = decide(book, name, language, Date.now());
    if (decision.ready && decision.record === 'resync' && !(await this.readiness.recordResync(wabaId, name, language))) {
      // Another send started the re-sync first: this one is too early.
      book = await this.readiness.book(wabaId, { fresh: true });
      decision = decide(book, name, language, Date.now());
      if (decision.ready && decision.record === 'resync') {
        decision = { ready: false, reason: "the template's re-sync after its idle window could not be confirmed; try again" };
      }
    }

    if (decision.ready) {
      const sharing = request.messageActivitySharing ?? book.messageActivitySharing;
      const answer = await this.deliver('marketing_messages', request, sharing, timing);
      if (decision.record === 'refresh') this.readiness.refreshInBackground(wabaId, name, language);
      return { route: 'marketing_messages', messageId: answer.messageId, graph: answer.body };
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
    this.metrics.sends.inc({ route: 'none', outcome: 'not_ready' });
    throw new ApiError(409, 'not_ready', `not safe to send through /marketing_messages yet: ${decision.reason}`, decision.readyAt ? { readyAt: decision.readyAt } : {});
  }

  private async deliver(edge: SendEdge, request: SendMessageBody, sharing: boolean | undefined, timing: { graphMs?: number }) {
    const route = edge === 'marketing_messages' ? 'marketing_messages' : 'cloud_api';
    const asked = performance.now();
    try {
      const answer = await this.graph.sendMessage(edge, request.phoneNumberId, graphMessage(request, sharing));
      timing.graphMs = performance.now() - asked;
      this.metrics.sends.inc({ route, outcome: 'sent' });
      return answer;
    } catch (err) {
      if (!(err instanceof GraphApiError)) throw err;
      this.metrics.sends.inc({ route, outcome: 'graph_error' });
      throw new ApiError(502, 'graph_error', `Meta refused the send through /${edge}: ${err.message}`, {
        code: err.code ?? null,
        subcode: err.subcode ?? null,
        ...(err.fbtraceId ? { fbtraceId: err.fbtraceId } : {}),
        edge,
      });
    }
  }
}

/** Whether the template may go through /marketing_messages now, and what that send must record. */
export function decide(book: TemplateBook, name: string, language: string, now: number): Decision {
  const template = findTemplate(book.templates, name, language);
  if (!template) {
    if (book.status !== 'READY') return { ready: false, reason: `the onboarding is ${book.status}` };
    return { ready: false, reason: `${name} (${language}) is not an approved marketing template of this WABA` };
  }
  const view = viewTemplate(template, book, now);
  if (!view.ready) return { ready: false, reason: view.reason!, ...(view.readyAt ? { readyAt: view.readyAt } : {}) };
  const record = sendRecordDue(template, book, now);
  return record ? { ready: true, record } : { ready: true };
}

/** The Cloud API template message, plus `message_activity_sharing` on MM API when there is a value. */
function graphMessage(request: SendMessageBody, sharing: boolean | undefined): Record<string, unknown> {
  const { name, language, components } = request.template;
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: request.to,
    type: 'template',
    template: { name, language: { code: language }, ...(components ? { components } : {}) },
    ...(sharing !== undefined ? { message_activity_sharing: sharing } : {}),
  };
}
