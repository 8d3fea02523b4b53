/**
 * Gauges of the onboardings themselves, read from Temporal visibility when /metrics is scraped (one
 * count per status; nothing is kept in the API process, so every API replica reports the same).
 *   mm_onboardings{status}               running onboardings by status (NEEDS_ATTENTION: alert on > 0)
 *   mm_onboardings_awaiting_terms_stale  AWAITING_TERMS whose run started more than STALE_AFTER_DAYS ago
 *   mm_onboardings_count_errors_total    scrapes whose counts Temporal did not answer
 */
import type { Client } from '@temporalio/client';
import { Counter, Gauge, type Registry } from 'prom-client';
import { OnboardingStatusKey } from '../../temporal/search-attributes';
import { ONBOARDING_STATUSES } from '../../workflows/types';
import { callWithin } from '../http/temporal-deadline';
import { ONBOARDING_WORKFLOW_TYPE } from '../partner/onboarding-list';

export const STALE_AFTER_DAYS = 7;
const COUNT_DEADLINE_MS = 2_000;

export function registerOnboardingGauges(registry: Registry, client: Client, namespace: string): void {
  const registers = [registry];
  const running = `WorkflowType = '${ONBOARDING_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
  const count = async (query: string) => {
    const { count: n } = await callWithin(client, COUNT_DEADLINE_MS, () =>
      client.workflowService.countWorkflowExecutions({ namespace, query }),
    );
    return Number(n ?? 0);
  };
  const errors = new Counter({
    name: 'mm_onboardings_count_errors_total',
    help: 'Scrapes of the onboarding gauges that Temporal visibility did not answer',
    registers,
  });
  new Gauge({
    name: 'mm_onboardings',
    help: 'Running onboardings by status, from Temporal visibility',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      try {
        const counts = await Promise.all(
          ONBOARDING_STATUSES.map((status) => count(`${running} AND ${OnboardingStatusKey.name} = '${status}'`)),
        );
        ONBOARDING_STATUSES.forEach((status, i) => this.set({ status }, counts[i]));
      } catch {
        errors.inc();
      }
    },
  });
  new Gauge({
    name: 'mm_onboardings_awaiting_terms_stale',
    help: `Onboardings in AWAITING_TERMS whose run started more than ${STALE_AFTER_DAYS} days ago`,
    registers,
    async collect() {
      const since = new Date(Date.now() - STALE_AFTER_DAYS * 86_400_000).toISOString();
      try {
        this.set(await count(`${running} AND ${OnboardingStatusKey.name} = 'AWAITING_TERMS' AND StartTime < '${since}'`));
      } catch {
        errors.inc();
      }
    },
  });
}
