/**
 * The partner's own META_ACCESS_TOKEN, checked like an Embedded Signup token (`GET /debug_token`):
 * at start-up and by `/readyz`. Without whatsapp_business_management or whatsapp_business_messaging
 * nothing can be onboarded or sent, so the service is not ready and says which permission is missing.
 * A Graph that does not answer is not the token's fault: the check then says "unknown".
 */
import type { Config } from '../../config';
import { createGraphClient, namePermissions, permissionsOf, type GraphClient } from '../../graph';

export type PartnerTokenStatus =
  | { kind: 'ok'; insightsAvailable: boolean }
  | { kind: 'missing_permission'; message: string; missing: string[] }
  | { kind: 'unknown'; message: string };

/** A good or bad answer holds this long; readiness probes do not each call Graph. */
const ANSWER_TTL_MS = 5 * 60_000;
/** An unanswered check is tried again sooner. */
const UNKNOWN_TTL_MS = 30_000;
const CHECK_TIMEOUT_MS = 5_000;

export class PartnerTokenCheck {
  private cached?: { until: number; status: Promise<PartnerTokenStatus> };

  constructor(
    private readonly graph: GraphClient,
    private readonly token: string,
  ) {}

  static fromConfig(config: Config): PartnerTokenCheck {
    return new PartnerTokenCheck(createGraphClient(config, { timeoutMs: CHECK_TIMEOUT_MS }), config.graph.accessToken);
  }

  /** The token's standing, from a recent answer when there is one. */
  status(now = Date.now()): Promise<PartnerTokenStatus> {
    if (this.cached && now < this.cached.until) return this.cached.status;
    const entry = { until: now + ANSWER_TTL_MS, status: this.ask() };
    this.cached = entry;
    void entry.status.then((s) => {
      if (s.kind === 'unknown') entry.until = now + UNKNOWN_TTL_MS;
    });
    return entry.status;
  }

  close(): Promise<void> {
    return this.graph.close();
  }

  private async ask(): Promise<PartnerTokenStatus> {
    try {
      const permissions = permissionsOf(await this.graph.debugToken(this.token));
      if (!permissions.valid) {
        return { kind: 'missing_permission', missing: [], message: 'META_ACCESS_TOKEN is not valid (Meta says it expired or was revoked)' };
      }
      if (permissions.missing.length) {
        return {
          kind: 'missing_permission',
          missing: permissions.missing,
          message: `META_ACCESS_TOKEN lacks the ${namePermissions(permissions.missing)} permission`,
        };
      }
      return { kind: 'ok', insightsAvailable: permissions.insightsAvailable };
    } catch (err) {
      // The client's errors never carry a token or the app secret.
      return { kind: 'unknown', message: `debug_token did not answer: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
}
