// The sandbox's Embedded Signup popup: Finish, Cancel at a step, or Error, each answered to the
// opener the way Meta's popup does (WA_EMBEDDED_SIGNUP message event, then the login result).
'use strict';
(function () {
  var params = new URLSearchParams(window.location.search);
  var openerOrigin = params.get('origin');

  function tell(event, data, authResponse) {
    if (!window.opener) return;
    window.opener.postMessage(JSON.stringify({ type: 'WA_EMBEDDED_SIGNUP', event: event, data: data, version: 3 }), openerOrigin);
    window.opener.postMessage({ type: 'SANDBOX_FB_LOGIN_RESULT', authResponse: authResponse }, openerOrigin);
    setTimeout(function () { window.close(); }, 100);
  }

  document.getElementById('finish').addEventListener('click', function () {
    fetch('/embedded-signup/finish', { method: 'POST' })
      .then(function (res) { return res.json(); })
      .then(function (s) {
        tell(
          'FINISH',
          { phone_number_id: s.phoneNumberId, waba_id: s.wabaId, business_id: s.businessId },
          { code: s.code, expiresIn: 30, userID: 'sandbox-user' }
        );
      });
  });

  document.getElementById('cancel').addEventListener('click', function () {
    tell('CANCEL', { current_step: document.getElementById('step').value }, null);
  });

  document.getElementById('error').addEventListener('click', function () {
    tell(
      'ERROR',
      { error_message: 'Your phone number could not be verified. Try again later.', error_id: '524126', session_id: 'sandbox-session', timestamp: String(Math.floor(Date.now() / 1000)) },
      null
    );
  });
})();
