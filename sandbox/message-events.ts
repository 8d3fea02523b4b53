import { metaJson } from './payloads';
import { MessagingNotFound, type SentMessageRecord } from './messaging';
import type { SandboxWorld } from './state';
import type { WebhookDelivery } from './webhooks';

/**
 * What Meta says after a send, as webhooks: message statuses (`field: messages`, `value.statuses[]`,
 * `pricing.category` `marketing_lite` when MM API carried the message, `marketing` when Cloud API did),
 * MM API link clicks (`value.user_actions[]`, `marketing_messages_link_click`), and template
 * recategorisations (`template_category_update`, completed or impending). Sent signed, like every
 * sandbox webhook; tests and `/_sandbox` routes drive them.
 */
export const MESSAGE_STATUSES = ['sent', 'delivered', 'read', 'failed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** How Meta prices what it carried: MM API is `marketing_lite`; Cloud API by the template's category. */
export function pricingCategoryOf(m: Pick<SentMessageRecord, 'edge' | 'carriedBy' | 'category' | 'type'>): string {
  if (m.edge === 'marketing_messages' && !m.carriedBy) return 'marketing_lite';
  return m.type === 'template' ? (m.category ?? 'MARKETING').toLowerCase() : 'service';
}

const metadata = (m: SentMessageRecord) => ({ display_phone_number: '15550000000', phone_number_id: m.phoneNumberId });

/** Meta's envelope of one `messages` change about a sent message (statuses or user actions). */
function messagesDelivery<V extends object>(m: SentMessageRecord, value: V) {
  return {
    object: 'whatsapp_business_account' as const,
    entry: [{ id: m.wabaId, changes: [{ field: 'messages' as const, value: { messaging_product: 'whatsapp', metadata: metadata(m), ...value } }] }],
  };
}

/** One `messages` change per message, its statuses in order (`errorCode` on `failed`). */
export function messageStatusBody(m: SentMessageRecord, statuses: readonly MessageStatus[], opts: { errorCode?: number } = {}, now = new Date()) {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const recipient = m.to.replace(/\D/g, '');
  const category = pricingCategoryOf(m);
  return messagesDelivery(m, {
    statuses: statuses.map((status) => ({
      id: m.id,
      status,
      timestamp,
      recipient_id: recipient,
      ...(status === 'failed'
        ? {
            errors: [
              {
                code: opts.errorCode ?? 131026,
                title: opts.errorCode === 131055 ? 'Method not allowed' : 'Message undeliverable',
                message: opts.errorCode === 131055 ? 'Method not allowed' : 'Message undeliverable',
                error_data: { details: `error ${opts.errorCode ?? 131026}` },
              },
            ],
          }
        : {
            conversation: { id: `conv-${m.id.slice(-12)}`, origin: { type: category === 'marketing_lite' ? 'marketing_lite' : category } },
            pricing: { billable: true, pricing_model: 'PMP', category, type: 'regular' },
          }),
    })),
  });
}

/** `count` MM API link clicks on the message's call-to-action button. */
export function linkClickBody(m: SentMessageRecord, count: number, now = new Date()) {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return messagesDelivery(m, {
    user_actions: Array.from({ length: count }, (_, i) => ({
      action_type: 'marketing_messages_link_click',
      timestamp,
      recipient_id: m.to.replace(/\D/g, ''),
      marketing_messages_link_click_data: {
        click_id: `${m.id.slice(-10)}-${i}`,
        clicked_url: 'https://shop.example/spring',
        click_component: 'button',
        tracking_token: `tt-${i}`,
      },
    })),
  });
}

/**
 * `template_category_update` on the WABA. Completed: `previous_category` and `new_category` (now).
 * Impending: `correct_category` (what it will be), `category_update_timestamp` and `new_category`
 * holding the *current* category, as Meta sends it.
 */
export function templateCategoryBody(
  wabaId: string,
  t: { id: string; name: string; language: string },
  change: { kind: 'completed'; previous: string; next: string } | { kind: 'impending'; current: string; correct: string; at: Date },
  now = new Date(),
) {
  const value =
    change.kind === 'completed'
      ? { previous_category: change.previous, new_category: change.next }
      : { correct_category: change.correct, new_category: change.current, category_update_timestamp: Math.floor(change.at.getTime() / 1000) };
  return {
    object: 'whatsapp_business_account' as const,
    entry: [
      {
        id: wabaId,
        time: Math.floor(now.getTime() / 1000),
        changes: [
          {
            field: 'template_category_update' as const,
            value: { message_template_id: Number(t.id), message_template_name: t.name, message_template_language: t.language, ...value },
          },
        ],
      },
    ],
  };
}

/** The world's message webhooks: statuses and clicks of recorded sends, template recategorisations. */
export class SandboxMessageEvents {
  constructor(private readonly world: SandboxWorld) {}

  private message(messageId: string): SentMessageRecord {
    const m = this.world.messaging.sent.find((x) => x.id === messageId);
    if (!m) throw new MessagingNotFound(`no sent message ${messageId}`);
    return m;
  }

  statuses(messageId: string, statuses: readonly MessageStatus[] = ['sent', 'delivered', 'read'], opts: { errorCode?: number } = {}): Promise<WebhookDelivery> {
    return this.world.deliverRaw(metaJson(messageStatusBody(this.message(messageId), statuses, opts)));
  }

  clicks(messageId: string, count = 1): Promise<WebhookDelivery> {
    return this.world.deliverRaw(metaJson(linkClickBody(this.message(messageId), count)));
  }

  /** Meta recategorises the template now (completed), or announces it will (impending: nothing changes yet). */
  async category(wabaId: string, templateId: string, category: string, impending?: { at: Date }): Promise<WebhookDelivery> {
    const waba = this.world.wabas.get(wabaId);
    const template = waba?.templates.find((t) => t.id === templateId || t.name === templateId);
    if (!waba || !template) throw new MessagingNotFound(`no template ${templateId} on WABA ${wabaId}`);
    const change = impending
      ? ({ kind: 'impending', current: template.category, correct: category, at: impending.at } as const)
      : ({ kind: 'completed', previous: template.category, next: category } as const);
    if (!impending) template.category = category;
    return this.world.deliverRaw(metaJson(templateCategoryBody(wabaId, template, change)));
  }
}
