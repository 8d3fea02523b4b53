import { readFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { SandboxWorld } from './state';

const ASSETS = path.join(__dirname, 'js-sdk-assets');
const sdkJs = readFileSync(path.join(ASSETS, 'sdk.js'));
const dialogJs = readFileSync(path.join(ASSETS, 'dialog.js'));

/** Steps Meta reports in a CANCEL event's `current_step`. */
const CANCEL_STEPS = ['BUSINESS_ACCOUNT_SELECTION', 'WABA_PHONE_PROFILE_PICKER', 'PHONE_NUMBER_SETUP', 'PHONE_NUMBER_VERIFICATION', 'PERMISSIONS'];

/**
 * A stand-in for Meta's JavaScript SDK and its Embedded Signup popup, so the hosted signup page runs
 * offline: `GET /sdk.js` (FB.init, FB.login), `GET /embedded-signup/dialog` (the popup, which records
 * the launch payload it was opened with), `POST /embedded-signup/finish` (a finished signup: the next
 * planned one, or a fresh ELIGIBLE WABA, and its code).
 */
export function jsSdkRoutes(world: SandboxWorld): express.Router {
  const router = express.Router();

  router.get('/sdk.js', (_req, res) => {
    // Pages load Meta's SDK with crossorigin="anonymous"; Meta's CDN allows any origin, so does this.
    res.type('text/javascript').set({ 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*' }).send(sdkJs);
  });

  router.get('/embedded-signup/dialog.js', (_req, res) => {
    res.type('text/javascript').set('Cache-Control', 'no-store').send(dialogJs);
  });

  router.get('/embedded-signup/dialog', (req, res) => {
    let launch: Record<string, unknown> = {};
    try {
      launch = JSON.parse(String(req.query.launch ?? '{}')) as Record<string, unknown>;
    } catch {
      launch = { unreadable: String(req.query.launch) };
    }
    world.signupLaunches.push(launch);
    res.type('html').send(dialogPage(launch));
  });

  router.post('/embedded-signup/finish', (_req, res) => {
    res.json(world.playSignup());
  });

  return router;
}

function dialogPage(launch: Record<string, unknown>): string {
  const payload = escapeHtml(JSON.stringify(launch, null, 2));
  const steps = CANCEL_STEPS.map((s) => `<option value="${s}">${s}</option>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sandbox Embedded Signup</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0; padding: 24px; background: #f0f2f5; color: #1c1e21; }
  main { background: #fff; border-radius: 8px; padding: 20px; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
  h1 { font-size: 18px; margin: 0 0 4px; }
  p { margin: 0 0 12px; color: #65676b; }
  pre { background: #f5f6f7; padding: 10px; border-radius: 6px; font-size: 12px; overflow: auto; max-height: 220px; }
  button, select { font: inherit; padding: 8px 14px; border-radius: 6px; border: 1px solid #ccd0d5; margin: 4px 4px 4px 0; }
  #finish { background: #1877f2; color: #fff; border: 0; }
</style>
</head>
<body>
<main>
  <h1>Sandbox: Meta's Embedded Signup</h1>
  <p>Stands in for Meta's popup. Nothing here talks to Meta.</p>
  <button id="finish" type="button">Finish signup</button>
  <p><label>Cancel at <select id="step">${steps}</select></label> <button id="cancel" type="button">Cancel</button></p>
  <button id="error" type="button">Report an error</button>
  <p>Launched with:</p>
  <pre>${payload}</pre>
</main>
<script src="/embedded-signup/dialog.js"></script>
</body>
</html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
