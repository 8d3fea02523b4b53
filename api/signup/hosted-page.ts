/**
 * The hosted Embedded Signup page (`GET /signup/:token`) and what it posts back
 * (`POST /signup/:token/complete`). Public routes: the signed link is the only authority, and the
 * page carries no API key and no secret (the app id is public; the token is the link itself).
 * Plain HTML, one stylesheet, one script, no build step; a strict Content-Security-Policy.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type Response } from 'express';
import type { Config } from '../../config';
import type { OnboardingState } from '../../workflows/types';
import type { EmbeddedSignup } from './embedded-signup';
import { ApiError, BuildNotPollingError, NOT_POLLING_RETRY_AFTER_SECONDS } from '../http/errors';
import type { Logger } from '../http/logger';
import { signupCompleteBody, signupTokenParam } from '../partner/schemas';
import type { SignupLink, SignupLinkSigner } from './link-token';
import type { SignupLinkClient } from './signup-link-client';
import { SignupRefused } from './signup-preflight';
import { isSignupLinkLocked, type SignupAttemptEnd } from '../../workflows/signup-link';
import { validate } from '../http/validate';

export const SIGNUP_ASSETS_PATH = '/signup-assets';
const ASSETS_DIR = path.join(__dirname, 'assets');
const ASSETS: Record<string, { type: string; body: Buffer }> = {
  'signup.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(path.join(ASSETS_DIR, 'signup.js')) },
  'signup.css': { type: 'text/css; charset=utf-8', body: readFileSync(path.join(ASSETS_DIR, 'signup.css')) },
};

export interface SignupPageDeps {
  config: Config;
  signup: EmbeddedSignup;
  linkRuns: SignupLinkClient;
  links: SignupLinkSigner;
  log: Logger;
}

export function signupPageRouter({ config, signup, linkRuns, links, log }: SignupPageDeps): Router {
  const router = Router();
  const csp = contentSecurityPolicy(config);

  router.get(`${SIGNUP_ASSETS_PATH}/:file`, (req, res, next) => {
    const asset = ASSETS[req.params.file];
    if (!asset) return next();
    res.set({ 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=300', 'X-Content-Type-Options': 'nosniff' }).send(asset.body);
  });

  router.get('/signup/:token', async (req, res) => {
    res.set(pageHeaders(csp));
    const check = links.check(req.params.token);
    if (!check.ok) {
      return check.reason === 'expired'
        ? plainPage(res, 410, 'This link has expired', `Ask ${partnerOf(check.link)} for a new signup link.`)
        : plainPage(res, 404, 'This link does not work', 'Check that you copied the whole link, or ask for a new one.');
    }
    const partner = partnerOf(check.link);
    if (!config.embeddedSignup.configId) {
      return plainPage(res, 501, 'Signup is not available yet', `${partner} has not finished setting up this page. Please try again later.`);
    }
    try {
      const run = await linkRuns.pageState(check.link.id);
      if (run?.used) {
        // Not an error: the customer's signup succeeded. Shown as done, not in the error's red.
        return plainPage(res, 410, 'This link has already been used', `Your WhatsApp account was connected with it. For another account, ask ${partner} for a new link.`, 'done');
      }
      if (run && isSignupLinkLocked(run)) {
        return plainPage(res, 410, 'This link no longer works', `Too many signups through it were refused. Ask ${partner} for a new link.`);
      }
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (err instanceof BuildNotPollingError) {
        // The link's run waits to move to the current build: seconds to minutes, nothing broken.
        log.warn('signup page: the link run cannot answer yet', { linkId: check.link.id, error });
        res.set('Retry-After', String(NOT_POLLING_RETRY_AFTER_SECONDS));
        return plainPage(res, 503, 'Please try again in a moment', 'The signup service is busy right now. Reload this page in a few seconds.');
      }
      log.error('signup page: cannot tell whether the link was used', { linkId: check.link.id, error });
      res.set('Retry-After', '60');
      return plainPage(res, 503, 'Please try again in a minute', 'The signup service is busy right now. Reload this page in a minute.');
    }
    res.status(200).type('html').send(signupPage(config, req.params.token, check.link));
  });

  router.post('/signup/:token/complete', express.json({ limit: '16kb' }), async (req, res) => {
    const { token } = validate(signupTokenParam, req.params, 'params');
    const check = links.check(token);
    if (!check.ok) {
      throw check.reason === 'expired'
        ? new ApiError(410, 'gone', 'this signup link has expired')
        : new ApiError(404, 'not_found', 'unknown signup link');
    }
    const { link } = check;
    const body = validate(signupCompleteBody, req.body, 'body');
    // Reserved before the code is exchanged: a second attempt meanwhile is refused (409), a used or
    // locked link is gone (410). Every attempt ends the reservation, whatever happens.
    const attemptId = randomUUID();
    await linkRuns.reserve(link, attemptId);
    const end: SignupAttemptEnd = { attemptId, outcome: 'released' };
    try {
      // The popup's business_id is not trusted: the WABA's owner on Meta is the business (or the
      // link's own business, which must be that owner).
      const { started, state } = await signup.signUp(
        { code: body.code, wabaId: body.wabaId, phoneNumberId: body.phoneNumberId, businessId: link.businessId, options: link.options },
        'hosted page',
      );
      if (state.signupCompletedAt) {
        Object.assign(end, { outcome: 'used', use: { wabaId: state.wabaId, businessId: state.businessId, usedAt: state.signupCompletedAt } });
      } else {
        end.outcome = 'refused'; // e.g. a permission left out: the customer signs up again through the link
      }
      await finish(link.id, end);
      res.status(started ? 201 : 200).json(completion(state));
    } catch (err) {
      if (err instanceof SignupRefused) end.outcome = 'refused';
      await finish(link.id, end);
      throw err;
    }
  });

  /** Ends an attempt; if that fails, its reservation lapses on its own (SIGNUP_RESERVATION_LEASE_MS). */
  const finish = (linkId: string, end: SignupAttemptEnd) =>
    linkRuns.finish(linkId, end).catch((err: unknown) =>
      log.error('signup link attempt could not be ended', { linkId, outcome: end.outcome, error: err instanceof Error ? err.message : String(err) }),
    );

  return router;
}

/** What the page needs to know, and nothing of the partner's own bookkeeping. */
function completion(state: OnboardingState) {
  return {
    wabaId: state.wabaId,
    status: state.status,
    signupComplete: state.signupCompletedAt !== undefined,
    ...(state.missingPermissions?.length ? { missingPermissions: state.missingPermissions } : {}),
    ...(state.signupCompletedAt === undefined && state.statusReason ? { message: state.statusReason } : {}),
  };
}

const partnerOf = (link?: SignupLink) => link?.partnerName ?? 'your WhatsApp provider';

function contentSecurityPolicy(config: Config): string {
  const { sdkUrl, messageOrigins } = config.embeddedSignup;
  const sdkOrigin = new URL(sdkUrl).origin;
  const metas = messageOrigins.some((o) => o.endsWith('.facebook.com')) ? ['https://*.facebook.com', 'https://*.fbcdn.net'] : [];
  const others = [...new Set([sdkOrigin, ...messageOrigins, ...metas])].join(' ');
  return [
    "default-src 'none'",
    `script-src 'self' ${sdkOrigin}`,
    // Meta's SDK injects its own small stylesheet; the page itself uses only its own file.
    `style-src 'self'${metas.length ? " 'unsafe-inline'" : ''}`,
    `img-src 'self' data: ${others}`,
    `frame-src ${others}`,
    `connect-src 'self' ${others}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function pageHeaders(csp: string): Record<string, string> {
  return {
    'Content-Security-Policy': csp,
    // The link is the customer's key to the page: it must not leak to Meta's SDK as a Referer.
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
}

function signupPage(config: Config, token: string, link: SignupLink): string {
  const es = config.embeddedSignup;
  const partner = link.partnerName;
  const pageConfig = {
    token,
    appId: config.meta.appId,
    graphVersion: config.graph.version,
    sdkUrl: es.sdkUrl,
    messageOrigins: es.messageOrigins,
    partnerName: partner ?? null,
    // The seed's popup launch payload.
    login: {
      config_id: es.configId,
      response_type: 'code',
      override_default_response_type: true,
      extras: {
        ...(es.featureType ? { featureType: es.featureType } : {}),
        sessionInfoVersion: '3',
        features: [{ name: 'marketing_messages_lite' }],
        version: 'v3',
      },
    },
  };
  const expires = new Date(link.exp * 1000).toUTCString().replace(/:\d\d GMT$/, ' UTC');
  return layout(
    'Connect your WhatsApp Business Account',
    `
    <p class="brand">${escapeHtml(partner ?? 'WhatsApp marketing messages')}</p>
    <h1 id="title">Connect your WhatsApp Business Account</h1>
    <p class="lead">${partner ? `${escapeHtml(partner)} will` : 'Your provider will'} send your marketing messages through Meta's Marketing Messages API. It takes about two minutes, in a window from Facebook.</p>
    <ol class="steps">
      <li>Log in with Facebook and choose your business.</li>
      <li>Pick the WhatsApp Business Account and phone number to connect.</li>
      <li>Keep every permission switched on and accept the terms.</li>
    </ol>
    <div id="status" class="status" data-state="loading" role="status" aria-live="polite">
      <p class="status-title" id="status-title" tabindex="-1">Loading Facebook's sign-in…</p>
      <p class="status-text" id="status-text"></p>
    </div>
    <button id="connect" class="primary" type="button" disabled>Connect with Facebook</button>
    <noscript><p class="status" data-state="failed">This page needs JavaScript to open Facebook's sign-in window.</p></noscript>
    <p class="fine">This link is for your business only and works until ${escapeHtml(expires)}. Meta's own window handles your login; this page never sees your password.</p>
    <script type="application/json" id="signup-config">${jsonForHtml(pageConfig)}</script>
    <script src="${SIGNUP_ASSETS_PATH}/signup.js" defer></script>`,
  );
}

function plainPage(res: Response, status: number, title: string, text: string, state: 'done' | 'in-progress' | 'failed' = status === 503 ? 'in-progress' : 'failed'): void {
  res
    .status(status)
    .type('html')
    .send(
      layout(
        title,
        `
    <div class="status" data-state="${state}" role="status">
      <h1 class="status-title" id="title">${escapeHtml(title)}</h1>
      <p class="status-text">${escapeHtml(text)}</p>
    </div>`,
      ),
    );
}

function layout(title: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <link rel="icon" href="data:,">
  <title>${escapeHtml(title)}</title>
  <link rel="stylesheet" href="${SIGNUP_ASSETS_PATH}/signup.css">
</head>
<body>
  <main class="card" aria-labelledby="title">${main}
  </main>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON inside <script type="application/json">: nothing in it may close the element. */
function jsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}
