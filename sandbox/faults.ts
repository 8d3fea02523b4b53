import { z } from 'zod';
import { MetaError, metaErrors } from './meta-errors';

/** The Graph endpoints the sandbox serves, by the names faults and the call log use. */
export const GRAPH_ENDPOINTS = [
  'waba_status',
  'waba_owner',
  'phone_numbers',
  'intent',
  'oauth',
  'subscribed_apps',
  'client_wabas',
  'business_status',
  'message_templates',
  'marketing_messages',
  'messages',
  'debug_token',
  'ad_insights',
  'template_analytics',
] as const;
export type GraphEndpoint = (typeof GRAPH_ENDPOINTS)[number];

/**
 * `slipped_cursor` (list edges): the page's `cursors.after` points at its first row instead of its
 * last, so the next page repeats all but one of its rows, as a Graph whose cursor slips does.
 */
export const FAULT_KINDS = ['transient', 'server_error', 'throttle', 'app_throttle', 'token_expired', 'permission', 'latency', 'slipped_cursor'] as const;
/**
 * Faults of the send edges only: `not_onboarded` makes `/marketing_messages` refuse with 131055 while
 * the WABA's status field still says ONBOARDED (Meta's refusal that its status does not confirm).
 */
export const SEND_FAULT_KINDS = ['not_onboarded'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number] | (typeof SEND_FAULT_KINDS)[number];

export const faultSpec = z.object({
  endpoint: z.enum([...GRAPH_ENDPOINTS, '*']).optional(),
  wabaId: z.string().min(1).optional(),
  businessId: z.string().min(1).optional(),
  kind: z.enum([...FAULT_KINDS, ...SEND_FAULT_KINDS]),
  /** `latency` only: how long to hold the answer. */
  latencyMs: z.number().int().min(0).max(600_000).optional(),
  /** An error fault's `error.message` instead of Meta's usual one (what the service shows as the reason). */
  message: z.string().min(1).max(2_000).optional(),
  /** `throttle` only: the usage header's `estimated_time_to_regain_access`. Default 1. */
  regainAccessMinutes: z.number().min(0).max(1440).optional(),
  /** How many matching calls it hits. Default 1; Infinity (or "Infinity" over HTTP) for every one. */
  times: z
    .union([z.number().int().positive(), z.literal(Infinity), z.literal('Infinity').transform(() => Infinity)])
    .optional(),
});
export type FaultSpec = z.input<typeof faultSpec>;

export interface Fault extends Omit<z.output<typeof faultSpec>, 'times'> {
  id: number;
  /** Hits left. */
  remaining: number;
  hits: number;
}

export interface CallTarget {
  endpoint: GraphEndpoint;
  wabaId?: string;
  businessId?: string;
}

/** What a call runs into: a delay, an error, both, or nothing. */
export interface FaultOutcome {
  latencyMs?: number;
  error?: MetaError;
  slippedCursor?: boolean;
  kinds: FaultKind[];
}

/** Injected faults, consumed in the order they were added. */
export class FaultBook {
  private faults: Fault[] = [];
  private nextId = 1;

  add(spec: FaultSpec): Fault {
    const { times, ...rest } = faultSpec.parse(spec);
    const fault: Fault = { ...rest, id: this.nextId++, remaining: times ?? 1, hits: 0 };
    this.faults.push(fault);
    return fault;
  }

  clear(): void {
    this.faults = [];
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** The first matching latency fault and the first matching error fault, each used up once. */
  take(target: CallTarget, ownerBusinessId: (target: CallTarget) => string): FaultOutcome {
    const outcome: FaultOutcome = { kinds: [] };
    const business = ownerBusinessId(target);
    const latency = this.faults.find((f) => f.kind === 'latency' && matches(f, target, business));
    if (latency) {
      this.use(latency);
      outcome.latencyMs = latency.latencyMs ?? 1_000;
      outcome.kinds.push('latency');
    }
    const slipped = this.faults.find((f) => f.kind === 'slipped_cursor' && matches(f, target, business));
    if (slipped) {
      this.use(slipped);
      outcome.slippedCursor = true;
      outcome.kinds.push('slipped_cursor');
    }
    const failing = this.faults.find((f) => f.kind !== 'latency' && f.kind !== 'slipped_cursor' && matches(f, target, business));
    if (failing) {
      this.use(failing);
      outcome.error = withMessage(errorFor(failing, business), failing.message);
      outcome.kinds.push(failing.kind);
    }
    return outcome;
  }

  private use(fault: Fault): void {
    fault.hits++;
    fault.remaining--;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
  }
}

/** A `businessId` fault hits every call that counts against that business: its own and its WABAs'. */
function matches(fault: Fault, target: CallTarget, business: string): boolean {
  if (fault.endpoint && fault.endpoint !== '*' && fault.endpoint !== target.endpoint) return false;
  if (fault.wabaId && fault.wabaId !== target.wabaId) return false;
  if (fault.businessId && fault.businessId !== (target.businessId ?? business)) return false;
  return true;
}

function withMessage(error: MetaError, message: string | undefined): MetaError {
  return message === undefined ? error : new MetaError(error.httpStatus, { ...error.body, message }, error.headers);
}

function errorFor(fault: Fault, businessId: string): MetaError {
  switch (fault.kind) {
    case 'transient':
      return metaErrors.transient();
    case 'server_error':
      return metaErrors.serviceUnavailable();
    case 'throttle':
      return metaErrors.throttled(businessId, fault.regainAccessMinutes ?? 1);
    case 'app_throttle':
      return metaErrors.appThrottled();
    case 'token_expired':
      return metaErrors.tokenExpired();
    case 'permission':
      return metaErrors.permission();
    case 'not_onboarded':
      // /marketing_messages refusing as if the terms were not signed, whatever the status field says.
      return metaErrors.termsNotSigned();
    case 'latency':
    case 'slipped_cursor':
      throw new Error(`${fault.kind} is not an error`);
  }
}
