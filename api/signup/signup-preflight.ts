/**
 * What an Embedded Signup must prove before anything starts for its WABA: the code is Meta's and
 * exchanges, the token it gives covers that WABA (its `granular_scopes` target it), and the business
 * is the one Meta names as the WABA's owner (`owner_business_info`), never one taken from the body.
 * A bogus code or a stranger's WABA id costs one or two Graph calls and no workflow, no history, no
 * NEEDS_ATTENTION alert.
 */
import { GraphApiError, GraphCodeRejectedError, GraphRequestError, GraphNeedsAttentionError, permissionsOf, REQUIRED_PERMISSIONS, type GraphClient } from '../../graph';
import { seal } from '../../secrets/sealing';
import { ApiError, type ErrorCode, type ErrorDetail } from '../http/errors';

/** The customer's input was refused (not Meta or Temporal failing): it counts against a signup link. */
export class SignupRefused extends ApiError {
  constructor(status: number, code: ErrorCode, field: ErrorDetail['path'], message: string) {
    super(status, code, `${message} (body.${field})`, [{ in: 'body', path: field, message }]);
  }
}

export interface CheckedSignup {
  /** The exchanged token, sealed: only sealed values reach Temporal. */
  sealedToken: string;
  /** The WABA's owner on Meta. */
  ownerBusinessId: string;
}

export class SignupPreflight {
  constructor(
    private readonly graph: GraphClient,
    private readonly sealingKey: Buffer,
  ) {}

  /**
   * Exchanges the code and checks the token against the WABA; `businessId`, when the caller names
   * one, must be the WABA's owner on Meta.
   */
  async check({ code, wabaId, businessId }: { code: string; wabaId: string; businessId?: string }): Promise<CheckedSignup> {
    const { accessToken } = await this.graph.exchangeCode(code).catch((err: unknown) => {
      if (err instanceof GraphCodeRejectedError) throw new SignupRefused(400, 'invalid_request', 'code', `Meta refused the signup code: ${err.message}`);
      throw unavailable(err);
    });
    const info = await this.graph.debugToken(accessToken).catch((err: unknown) => {
      throw unavailable(err);
    });
    if (!info.valid) throw new SignupRefused(400, 'invalid_request', 'code', 'Meta says the token from this code is not valid');
    // A token that holds none of the WhatsApp permissions for this WABA was granted for another one.
    // (One that lacks only some still starts: the onboarding asks the customer to grant the rest.)
    if (permissionsOf(info, wabaId).missing.length === REQUIRED_PERMISSIONS.length) {
      throw new SignupRefused(403, 'forbidden', 'wabaId', `this signup did not grant access to WABA ${wabaId}`);
    }
    const owner = await this.graph.getWabaOwner(wabaId, accessToken).catch((err: unknown) => {
      if (err instanceof GraphRequestError || err instanceof GraphNeedsAttentionError) {
        throw new SignupRefused(403, 'forbidden', 'wabaId', `Meta does not show WABA ${wabaId} to this signup's token`);
      }
      throw unavailable(err);
    });
    if (businessId !== undefined && businessId !== owner.businessId) throw ownerMismatch(wabaId, owner.businessId, businessId);
    return { sealedToken: seal(accessToken, this.sealingKey), ownerBusinessId: owner.businessId };
  }
}

/** The business named for a WABA is not its owner on Meta: 400 naming `businessId`. */
export function ownerMismatch(wabaId: string, ownerBusinessId: string, businessId: string): SignupRefused {
  return new SignupRefused(400, 'invalid_request', 'businessId', `Meta says WABA ${wabaId} belongs to business ${ownerBusinessId}, not ${businessId}`);
}

/** Meta failed (not refused): nothing is held against the customer, who may simply try again. */
function unavailable(err: unknown): unknown {
  if (!(err instanceof GraphApiError)) return err;
  return new ApiError(502, 'graph_error', `Meta did not answer the signup check: ${err.message}`, { code: err.code ?? null, subcode: err.subcode ?? null });
}
