// The hosted Embedded Signup page: opens Meta's popup (FB.login with the seed's payload), reads the
// WhatsApp account from the popup's WA_EMBEDDED_SIGNUP message and the code from the login callback,
// and posts both to /signup/<token>/complete at once (the code lives 30 seconds).
'use strict';
(function () {
  var config = JSON.parse(document.getElementById('signup-config').textContent);
  var partner = config.partnerName || 'your provider';
  var button = document.getElementById('connect');
  var box = document.getElementById('status');
  var title = document.getElementById('status-title');
  var text = document.getElementById('status-text');
  /** One popup's worth of what Meta told us. */
  var attempt = null;
  /** How long to wait for the popup's account details once the code is in (or the other way round). */
  var PAIRING_MS = 10000;

  // Meta's step names, in words a customer recognises.
  var STEPS = {
    BUSINESS_ACCOUNT_SELECTION: 'choosing your business',
    WABA_SELECTION: 'choosing the WhatsApp Business Account',
    WABA_PHONE_PROFILE_PICKER: 'choosing the WhatsApp account and number',
    PHONE_NUMBER_SETUP: 'adding the phone number',
    PHONE_NUMBER_VERIFICATION: 'verifying the phone number',
    PERMISSIONS: 'reviewing permissions',
  };

  function show(state, heading, detail, buttonLabel) {
    box.setAttribute('data-state', state);
    title.textContent = heading;
    text.textContent = detail || '';
    var canRetry = state === 'ready' || state === 'failed';
    button.hidden = !canRetry && state !== 'loading';
    button.disabled = !canRetry;
    if (buttonLabel) button.textContent = buttonLabel;
    if (state === 'failed' || state === 'done') title.focus();
  }

  function ready() {
    show('ready', 'Ready when you are', 'Click the button: a Facebook window opens. Come back here when it closes.', 'Connect with Facebook');
  }

  function retryable(heading, detail) {
    attempt = null;
    show('failed', heading, detail, 'Try again');
  }

  function finalFailure(heading, detail) {
    attempt = null;
    show('failed', heading, detail);
    button.hidden = true;
  }

  // ---- Meta's SDK ------------------------------------------------------------------------------
  window.fbAsyncInit = function () {
    window.FB.init({ appId: config.appId, autoLogAppEvents: false, xfbml: false, version: config.graphVersion });
    ready();
  };
  var sdk = document.createElement('script');
  sdk.src = config.sdkUrl;
  sdk.async = true;
  sdk.crossOrigin = 'anonymous';
  sdk.onerror = function () {
    show('failed', "Facebook's sign-in could not be loaded", 'Check your internet connection, allow this page in any content blocker, then reload the page.');
    button.hidden = true;
  };
  document.head.appendChild(sdk);

  /** Meta's words as one quoted sentence: its own full stop, or one added, never two ("later.".). */
  function quoted(text) {
    var said = String(text).trim();
    return '"' + said + (/[.!?…]$/.test(said) ? '' : '.') + '"';
  }

  // ---- the popup's messages ------------------------------------------------------------------------
  window.addEventListener('message', function (event) {
    if (config.messageOrigins.indexOf(event.origin) < 0 || !attempt) return;
    var message = event.data;
    if (typeof message === 'string') {
      try {
        message = JSON.parse(message);
      } catch (e) {
        return;
      }
    }
    if (!message || message.type !== 'WA_EMBEDDED_SIGNUP') return;
    var data = message.data || {};
    if (String(message.event).indexOf('FINISH') === 0) {
      attempt.account = data;
      complete();
    } else if (message.event === 'CANCEL') {
      attempt.cancelledAt = data.current_step || 'unknown';
    } else if (message.event === 'ERROR') {
      attempt.error = data;
    }
  });

  button.addEventListener('click', function () {
    attempt = { sent: false };
    show('in-progress', 'Finish in the Facebook window', 'Log in, choose your business and WhatsApp account, and keep every permission switched on. No window? Allow pop-ups for this page and click again.');
    window.FB.login(onLogin, config.login);
  });

  function onLogin(response) {
    var current = attempt;
    if (!current) return;
    var code = response && response.authResponse && response.authResponse.code;
    if (code) {
      current.code = code;
      complete();
      setTimeout(function () {
        if (attempt === current && !current.sent) {
          retryable("Facebook didn't say which WhatsApp account you connected", 'Please click Try again and finish the steps in the Facebook window.');
        }
      }, PAIRING_MS);
      return;
    }
    // No code: the message explaining why may trail the callback by a moment.
    setTimeout(function () {
      if (attempt !== current) return;
      if (current.error) {
        var reason = current.error.error_message ? 'Facebook said: ' + quoted(current.error.error_message) + ' ' : '';
        var id = current.error.error_id ? ' (error ' + current.error.error_id + ')' : '';
        retryable('Facebook could not finish the signup', reason + 'Click Try again; if it happens again, contact ' + partner + id + '.');
      } else if (current.cancelledAt) {
        var step = STEPS[current.cancelledAt] || 'step "' + current.cancelledAt + '"';
        retryable('The signup was cancelled', 'The Facebook window was closed while ' + step + '. Nothing was changed: click Try again to start over.');
      } else {
        retryable('The Facebook window closed before the signup finished', 'Click Try again. If no window opened, allow pop-ups for this page first.');
      }
    }, 300);
  }

  // ---- handing over --------------------------------------------------------------------------------
  function complete() {
    var current = attempt;
    if (!current || current.sent || !current.code || !current.account) return;
    current.sent = true;
    show('in-progress', 'Connecting your account…', 'This takes a few seconds. Please keep this page open.');
    var account = current.account;
    var body = { code: current.code, wabaId: String(account.waba_id) };
    if (account.phone_number_id) body.phoneNumberId = String(account.phone_number_id);
    if (account.business_id) body.businessId = String(account.business_id);
    current.code = null;
    fetch('/signup/' + encodeURIComponent(config.token) + '/complete', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(body),
    })
      .then(function (res) {
        return res.json().then(
          function (json) { return { status: res.status, json: json }; },
          function () { return { status: res.status, json: {} }; }
        );
      })
      .then(function (answer) { settle(answer.status, answer.json); })
      .catch(function () {
        retryable("We couldn't reach " + partner, 'Check your internet connection and click Try again.');
      });
  }

  function settle(status, json) {
    if (status === 200 || status === 201) {
      if (json.signupComplete) {
        attempt = null;
        show('done', 'Your WhatsApp account is connected', partner.charAt(0).toUpperCase() + partner.slice(1) + ' takes it from here: Meta confirms the Marketing Messages terms and your templates within minutes. You can close this page.');
        button.hidden = true;
      } else if (json.missingPermissions && json.missingPermissions.length) {
        retryable('One permission is missing', 'The connection needs ' + json.missingPermissions.join(' and ') + '. Click Try again and keep every permission switched on in the Facebook window.');
      } else {
        retryable("Facebook didn't confirm the connection", 'The signup took too long or was already used. Click Try again to start a fresh one.');
      }
      return;
    }
    var message = (json && json.error && json.error.message) || '';
    var details = (json && json.error && json.error.details) || [];
    var field = details.length && details[0] ? details[0].path : '';
    if (status === 409 && /already complete/.test(message)) {
      attempt = null;
      show('done', 'This WhatsApp account is already connected', 'Nothing more to do here. You can close this page.');
      button.hidden = true;
    } else if (status === 404 || status === 410) {
      finalFailure('This link no longer works', 'It has expired, was already used, or too many signups through it failed. Ask ' + partner + ' for a new link.');
    } else if (status === 400 && field === 'code') {
      retryable("Facebook didn't confirm the connection", 'The signup took too long or was already used. Click Try again to start a fresh one.');
    } else if (status === 400 && field === 'businessId') {
      retryable('This account belongs to another business', 'This link is for another business. Click Try again and choose the right business, or ask ' + partner + ' for a new link.');
    } else if (status === 403) {
      retryable('That WhatsApp account was not shared', 'Click Try again and select the same WhatsApp Business Account in the Facebook window.');
    } else if (status === 409 && /under way/.test(message)) {
      retryable('A signup through this link is already under way', 'Wait a minute and click Try again.');
    } else if (status === 409) {
      retryable('This WhatsApp account cannot be connected right now', 'Wait a minute and click Try again; if it keeps happening, contact ' + partner + '.');
    } else {
      retryable('Something went wrong on our side', 'Click Try again in a minute; if it keeps happening, contact ' + partner + '.');
    }
  }
})();
