/**
 * A WABA's business comes from Meta: a `businessId` that is not the WABA's owner on Meta
 * (`owner_business_info`) is refused before anything starts (on the Intent path it decides whom Meta
 * emails the terms to). Only Meta's answer refuses: a WABA Meta will not show (or a Graph that does not answer)
 * starts as before, and the onboarding's own reads report the problem.
 */
import { GraphApiError, type GraphClient } from '../../graph';
import { ownerMismatch } from '../signup/signup-preflight';

export class WabaOwnerCheck {
  constructor(private readonly graph: GraphClient) {}

  /** Throws 400 naming `businessId` when Meta names another owner for the WABA. */
  async refuseOtherOwner(wabaId: string, businessId: string): Promise<void> {
    let owner: string;
    try {
      owner = (await this.graph.getWabaOwner(wabaId)).businessId;
    } catch (err) {
      if (err instanceof GraphApiError) return;
      throw err;
    }
    if (owner !== businessId) throw ownerMismatch(wabaId, owner, businessId);
  }
}
