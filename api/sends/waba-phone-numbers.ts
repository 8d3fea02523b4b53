/**
 * Which phone numbers belong to which WABA, for the send gate: a send names a `phoneNumberId` and a
 * WABA, and the WABA's readiness says nothing about a number of another WABA. The numbers come from
 * Graph's `/<WABA_ID>/phone_numbers` (the read the onboarding's Cloud API number check makes), kept
 * in this process's memory: a number not in it (a number added since, or one of another WABA) makes
 * one fresh read, shared by concurrent sends and at most one per REREAD_FLOOR_MS per WABA, so a
 * stream of foreign numbers costs Graph little.
 */
import { GraphApiError, type GraphClient } from '../../graph';
import { ApiError } from '../http/errors';

/** A known number is trusted this long; then the list is read again (numbers move between WABAs rarely). */
const KNOWN_FOR_MS = 10 * 60_000;
/** An unknown number re-reads the list at most this often per WABA. */
const REREAD_FLOOR_MS = 2_000;
/** WABAs remembered; the least recently read goes first. */
const MAX_WABAS = 10_000;

interface Numbers {
  ids: Promise<ReadonlySet<string>>;
  readAt: number;
}

export class WabaPhoneNumbers {
  private readonly byWaba = new Map<string, Numbers>();

  constructor(private readonly graph: GraphClient) {}

  /** Resolves when `phoneNumberId` is one of the WABA's numbers; else a 400 naming `phoneNumberId`. */
  async check(wabaId: string, phoneNumberId: string): Promise<void> {
    const now = Date.now();
    let known = this.byWaba.get(wabaId);
    if (known && now - known.readAt < KNOWN_FOR_MS && (await known.ids.catch(() => undefined))?.has(phoneNumberId)) return;
    if (!known || now - known.readAt >= REREAD_FLOOR_MS) known = this.read(wabaId, now);
    let ids: ReadonlySet<string>;
    try {
      ids = await known.ids;
    } catch (err) {
      if (!(err instanceof GraphApiError)) throw err;
      throw new ApiError(502, 'graph_error', `could not read the WABA's phone numbers to check phoneNumberId: ${err.message}`, {
        code: err.code ?? null,
        subcode: err.subcode ?? null,
      });
    }
    if (!ids.has(phoneNumberId)) {
      const message = `is not a phone number of WABA ${wabaId}`;
      throw new ApiError(400, 'invalid_request', `invalid request: body.phoneNumberId ${message}`, [{ in: 'body', path: 'phoneNumberId', message }]);
    }
  }

  private read(wabaId: string, now: number): Numbers {
    const entry: Numbers = { ids: this.graph.listPhoneNumbers(wabaId).then((numbers) => new Set(numbers.map((n) => n.id))), readAt: now };
    // A failed read is not remembered: the next send reads again.
    entry.ids.catch(() => {
      if (this.byWaba.get(wabaId) === entry) this.byWaba.delete(wabaId);
    });
    this.byWaba.delete(wabaId);
    this.byWaba.set(wabaId, entry);
    if (this.byWaba.size > MAX_WABAS) this.byWaba.delete(this.byWaba.keys().next().value!);
    return entry;
  }
}
