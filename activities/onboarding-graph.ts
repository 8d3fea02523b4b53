import { Context } from '@temporalio/activity';
import { GraphClient, isRegisteredOnCloudApi, permissionsOf, type IntentRequestResult, type PhoneNumber } from '../graph';
import type { CloudApiNumbers } from '../workflows/types';
import { classified } from './graph-failures';
import { seal, unseal } from '../secrets/sealing';

/** What the onboarding needs to know of a WABA's numbers. */
export function cloudApiNumbersOf(numbers: PhoneNumber[]): CloudApiNumbers {
  return {
    registered: numbers.filter(isRegisteredOnCloudApi).length,
    others: numbers
      .filter((n) => !isRegisteredOnCloudApi(n))
      .map(({ id, displayPhoneNumber, platformType }) => ({ id, displayPhoneNumber, platformType })),
  };
}

/** A business status on Meta that means its Intent request already stands (or is past needing one). */
const INTENT_REQUEST_STANDS: readonly string[] = Object.freeze(['REQUEST_SENT', 'TERM_OF_SERVICE_SIGNED']);

export interface WabaRef {
  wabaId: string;
  /** The WABA's own Embedded Signup token, sealed; else the partner's system-user token is used. */
  sealedToken?: string;
}

/** The onboarding's Graph calls: thin wrappers that unseal secrets and classify failures. */
export function createOnboardingGraphActivities(graph: GraphClient, sealingKey: Buffer) {
  const tokenOf = (sealedToken?: string) => (sealedToken ? unseal(sealedToken, sealingKey) : undefined);

  return {
    async readOnboardingStatus({ wabaId, sealedToken }: WabaRef) {
      return classified(() => graph.getWabaOnboardingStatus(wabaId, tokenOf(sealedToken)));
    },

    async checkCloudApiNumbers({ wabaId, sealedToken }: WabaRef): Promise<CloudApiNumbers> {
      return cloudApiNumbersOf(await classified(() => graph.listPhoneNumbers(wabaId, tokenOf(sealedToken))));
    },

    /** The WABA's approved marketing templates, tracked by its onboarding from READY on. */
    async listMarketingTemplates({ wabaId, sealedToken }: WabaRef) {
      const templates = await classified(() => graph.listMessageTemplates(wabaId, { category: 'MARKETING', status: 'APPROVED' }, tokenOf(sealedToken)));
      return templates.map(({ id, name, language }) => ({ id, name, language }));
    },

    /** The end business's own status (`NOT_STARTED | REQUEST_SENT | TERM_OF_SERVICE_SIGNED`), read before an Intent request. */
    async readBusinessOnboardingStatus({ businessId }: { businessId: string }) {
      return classified(() => graph.getBusinessOnboardingStatus(businessId));
    },

    /**
     * The Intent request emails the business's admins, so a retry never posts blind: the attempt before
     * may have reached Meta and lost only its answer (a timeout, a worker killed mid-call). From the
     * second attempt on, the business's own status is read first, and a request Meta already holds
     * (REQUEST_SENT, or the terms signed) is not sent again.
     */
    async requestIntent({ businessId, solutionId }: { businessId: string; solutionId?: string }): Promise<IntentRequestResult> {
      if (Context.current().info.attempt > 1) {
        const { status } = await classified(() => graph.getBusinessOnboardingStatus(businessId));
        if (INTENT_REQUEST_STANDS.includes(status)) return { alreadySent: true };
      }
      return classified(() => graph.requestIntent(businessId, solutionId));
    },

    /** The code lives 30 s and the token is a secret: only sealed values cross into history. */
    async exchangeSignupCode({ sealedCode }: { sealedCode: string }) {
      const { accessToken } = await classified(() => graph.exchangeCode(unseal(sealedCode, sealingKey)));
      return { sealedToken: seal(accessToken, sealingKey) };
    },

    /** Permission preflight of the Embedded Signup token for its WABA (`GET /debug_token`). */
    async checkTokenPermissions({ wabaId, sealedToken }: Required<WabaRef>) {
      const info = await classified(() => graph.debugToken(unseal(sealedToken, sealingKey)));
      return permissionsOf(info, wabaId);
    },

    async subscribeApp({ wabaId, sealedToken }: Required<WabaRef>) {
      await classified(() => graph.subscribeApp(wabaId, tokenOf(sealedToken)));
    },
  };
}
