import { randomBytes } from 'node:crypto';
import { metaErrors } from './meta-errors';
import { metaJson, templateStatusBody } from './payloads';
import type { WebhookDelivery, WebhookSender } from './webhooks';

/**
 * The WABA's message templates and the two send edges, as Meta behaves (seed: "Template-to-ad sync"):
 * - `/messages` (Cloud API) sends any message; a template must exist and be approved.
 * - `/marketing_messages` (MM API) takes template messages only (100 otherwise), only once the WABA has
 *   signed the terms (131055 before), and only after the template's sync to the ad account: `syncMs`
 *   after the later of the onboarding and the template's approval (131009 before). A template unused
 *   through it for `idleMs` is re-synced on its first reuse: that send goes out, and sends during the
 *   re-sync fail with 131009.
 * - `product_policy` (MM API): Meta's default `CLOUD_API_FALLBACK` carries a message for a WABA that
 *   was onboarded but no longer is silently through Cloud API (billed as `marketing`, recorded with
 *   `carriedBy: 'cloud_api'`); `STRICT` refuses it with 131055 instead. A template that is no longer
 *   MARKETING is refused either way.
 */
export interface SandboxTemplate {
  id: string;
  name: string;
  language: string;
  category: string;
  status: string;
  reason?: string;
  /** Epoch ms. */
  approvedAt?: number;
  /** Last send through /marketing_messages, epoch ms. */
  lastMarketingSendAt?: number;
  /** A re-sync after an idle window runs until then, epoch ms. */
  resyncUntil?: number;
}

export interface NewTemplate {
  id?: string;
  name: string;
  /** Default en_US. */
  language?: string;
  /** Default MARKETING. */
  category?: string;
  /** Default APPROVED. */
  status?: string;
  /** Default true: Meta's message_template_status_update webhook goes out. */
  notify?: boolean;
}

export type SendEdgeName = 'messages' | 'marketing_messages';

export interface SentMessageRecord {
  id: string;
  edge: SendEdgeName;
  phoneNumberId: string;
  wabaId: string;
  to: string;
  type: string;
  template?: { name: string; language: string };
  /** As it arrived on /marketing_messages; absent when the request left it out. */
  messageActivitySharing?: boolean;
  /** The first send after an idle window, which started a re-sync. */
  startedResync?: boolean;
  /** `product_policy` as it arrived on /marketing_messages. */
  productPolicy?: string;
  /** Sent to /marketing_messages but silently carried through Cloud API (no STRICT, WABA no longer onboarded). */
  carriedBy?: 'cloud_api';
  /** The template's category when it was sent. */
  category?: string;
  at: string;
}

export interface MessagingTiming {
  /** Template-to-ad-account sync. Default 600 000 (Meta's 10 minutes). */
  syncMs: number;
  /** Unused this long, a template re-syncs on its first reuse. Default 7 days. */
  idleMs: number;
}

/** What the messaging desk needs of a WABA (the world's SandboxWaba has all of it). */
export interface MessagingWaba {
  id: string;
  onboardingStatus: string | null;
  legacyStatus: string | null;
  /** When the WABA became ONBOARDED, epoch ms. */
  onboardedAt?: number;
  phoneNumbers: Array<{ id: string }>;
  templates: SandboxTemplate[];
}

const MAX_SENT = 50_000;

export class SandboxMessaging {
  readonly sent: SentMessageRecord[] = [];

  constructor(
    private readonly wabas: Map<string, MessagingWaba>,
    private readonly webhooks: WebhookSender,
    readonly timing: MessagingTiming,
  ) {}

  /** A new template on the WABA; approved ones are announced with Meta's webhook unless `notify: false`. */
  async createTemplate(wabaId: string, input: NewTemplate): Promise<{ template: SandboxTemplate; delivery?: WebhookDelivery }> {
    const waba = this.waba(wabaId);
    const template: SandboxTemplate = {
      id: input.id ?? String(randomIdNumber()),
      name: input.name,
      language: input.language ?? 'en_US',
      category: input.category ?? 'MARKETING',
      status: input.status ?? 'APPROVED',
    };
    if (template.status === 'APPROVED') template.approvedAt = Date.now();
    waba.templates.push(template);
    const delivery = input.notify === false ? undefined : await this.announce(waba, template);
    return { template, delivery };
  }

  /** Meta changes the template's status (review, quality, deletion) and sends the webhook. */
  async setTemplateStatus(wabaId: string, templateId: string, status: string, reason?: string): Promise<{ template: SandboxTemplate; delivery: WebhookDelivery }> {
    const waba = this.waba(wabaId);
    const template = waba.templates.find((t) => t.id === templateId || t.name === templateId);
    if (!template) throw new MessagingNotFound(`no template ${templateId} on WABA ${wabaId}`);
    if (status === 'APPROVED' && template.status !== 'APPROVED') template.approvedAt = Date.now();
    template.status = status;
    template.reason = reason;
    return { template, delivery: await this.announce(waba, template) };
  }

  /** `GET /<WABA>/message_templates`, filtered as Meta filters. */
  listTemplates(wabaId: string, filter: { category?: string; status?: string; name?: string }): SandboxTemplate[] {
    return this.waba(wabaId).templates.filter(
      (t) => (!filter.category || t.category === filter.category) && (!filter.status || t.status === filter.status) && (!filter.name || t.name === filter.name),
    );
  }

  wabaOfPhoneNumber(phoneNumberId: string): MessagingWaba | undefined {
    for (const waba of this.wabas.values()) if (waba.phoneNumbers.some((n) => n.id === phoneNumberId)) return waba;
    return undefined;
  }

  /** One send on either edge: Meta's answer, or a MetaError thrown as Meta would answer. */
  send(edge: SendEdgeName, phoneNumberId: string, body: Record<string, unknown>, now = Date.now()) {
    const waba = this.wabaOfPhoneNumber(phoneNumberId);
    if (!waba) throw metaErrors.unsupported('post', phoneNumberId);
    if (body.messaging_product !== 'whatsapp') throw metaErrors.invalidParameter('The parameter messaging_product is required.');
    if (typeof body.to !== 'string' || !body.to) throw metaErrors.invalidParameter('The parameter to is required.');
    const type = typeof body.type === 'string' ? body.type : 'text';
    const sharing = body.message_activity_sharing;
    if (edge === 'messages' && sharing !== undefined) throw metaErrors.invalidParameter('Param message_activity_sharing is not supported on /messages');
    const policy = body.product_policy;
    let carriedBy: 'cloud_api' | undefined;
    if (edge === 'messages' && policy !== undefined) throw metaErrors.invalidParameter('Param product_policy is not supported on /messages');
    if (edge === 'marketing_messages') {
      if (policy !== undefined && policy !== 'STRICT' && policy !== 'CLOUD_API_FALLBACK') {
        throw metaErrors.invalidParameter('Param product_policy must be one of {CLOUD_API_FALLBACK, STRICT}');
      }
      if (waba.onboardingStatus !== 'ONBOARDED' && !(waba.onboardingStatus === null && waba.legacyStatus === 'ONBOARDED')) {
        // Never onboarded: refused. Onboarded once, no longer: silently carried through Cloud API unless STRICT.
        if (policy === 'STRICT' || waba.onboardedAt === undefined) throw metaErrors.termsNotSigned();
        carriedBy = 'cloud_api';
      }
      if (type !== 'template') throw metaErrors.templateOnly();
      if (sharing !== undefined && typeof sharing !== 'boolean') throw metaErrors.invalidParameter('Param message_activity_sharing must be a boolean');
    }

    let startedResync = false;
    let template: SandboxTemplate | undefined;
    if (type === 'template') {
      const t = body.template as { name?: unknown; language?: { code?: unknown } } | undefined;
      const name = typeof t?.name === 'string' ? t.name : '';
      const language = typeof t?.language?.code === 'string' ? t.language.code : '';
      template = waba.templates.find((x) => x.name === name && x.language === language);
      if (!template) throw metaErrors.templateMissing(name, language);
      if (template.status === 'PAUSED') throw metaErrors.templatePaused();
      if (template.status === 'DISABLED') throw metaErrors.templateDisabled();
      if (template.status !== 'APPROVED') throw metaErrors.templateMissing(name, language);
      if (edge === 'marketing_messages' && template.category !== 'MARKETING') throw metaErrors.notMarketingTemplate(template.category);
      if (edge === 'marketing_messages' && !carriedBy) {
        const synced = Math.max(waba.onboardedAt ?? now, template.approvedAt ?? 0) + this.timing.syncMs;
        if (now < synced || (template.resyncUntil !== undefined && now < template.resyncUntil)) throw metaErrors.templateSyncing();
        const lastUse = Math.max(synced, template.resyncUntil ?? 0, template.lastMarketingSendAt ?? 0);
        if (now - lastUse > this.timing.idleMs) {
          template.resyncUntil = now + this.timing.syncMs;
          startedResync = true;
        }
        template.lastMarketingSendAt = now;
      }
    }

    const id = `wamid.${randomBytes(24).toString('base64url')}`;
    this.sent.push({
      id,
      edge,
      phoneNumberId,
      wabaId: waba.id,
      to: body.to,
      type,
      ...(template ? { template: { name: template.name, language: template.language } } : {}),
      ...(typeof sharing === 'boolean' ? { messageActivitySharing: sharing } : {}),
      ...(startedResync ? { startedResync } : {}),
      ...(typeof policy === 'string' ? { productPolicy: policy } : {}),
      ...(carriedBy ? { carriedBy } : {}),
      ...(template ? { category: template.category } : {}),
      at: new Date(now).toISOString(),
    });
    if (this.sent.length > MAX_SENT) this.sent.splice(0, this.sent.length - MAX_SENT);
    return {
      messaging_product: 'whatsapp',
      contacts: [{ input: body.to, wa_id: body.to.replace(/\D/g, '') }],
      messages: [{ id, ...(edge === 'marketing_messages' ? { message_status: 'accepted' } : {}) }],
    };
  }

  forget(): void {
    this.sent.length = 0;
  }

  private waba(id: string): MessagingWaba {
    const waba = this.wabas.get(id);
    if (!waba) throw new MessagingNotFound(`no WABA ${id}`);
    return waba;
  }

  private announce(waba: MessagingWaba, template: SandboxTemplate): Promise<WebhookDelivery> {
    return this.webhooks.send(metaJson(templateStatusBody(waba.id, template)));
  }
}

export class MessagingNotFound extends Error {}

const randomIdNumber = () => 1_000_000_000_000_000 + Math.floor(Math.random() * 8_000_000_000_000_000);
