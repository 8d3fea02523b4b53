/**
 * What Meta's `messages` webhooks tell about delivery (api/webhooks/message-statuses.ts): statuses by
 * status and pricing category (`marketing_lite`: MM API carried it), errors by Meta's code, and MM API
 * link clicks. Counted in memory only: these are the highest-volume webhooks Meta sends.
 */
import { Counter, type Registry } from 'prom-client';

export function createDeliveryMetrics(registers: Registry[]) {
  const messageStatuses = new Counter({
    name: 'mm_message_statuses_total',
    help: 'Message statuses from messages webhooks, by status (sent, delivered, read, failed, ...) and pricing category (marketing_lite: carried by MM API; none: no pricing)',
    labelNames: ['status', 'category'] as const,
    registers,
  });
  const messageErrors = new Counter({
    name: 'mm_message_errors_total',
    help: "Errors carried by message statuses, by Meta's error code (131055: the WABA is not onboarded to MM API)",
    labelNames: ['code'] as const,
    registers,
  });
  const linkClicks = new Counter({
    name: 'mm_marketing_link_clicks_total',
    help: 'MM API link clicks (user_actions marketing_messages_link_click) from messages webhooks',
    registers,
  });
  return { messageStatuses, messageErrors, linkClicks };
}
