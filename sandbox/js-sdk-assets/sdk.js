// Sandbox stand-in for Meta's JavaScript SDK (connect.facebook.net/.../sdk.js): just FB.init and
// FB.login. FB.login opens the sandbox's Embedded Signup "popup", which plays Meta's part: it posts
// the WA_EMBEDDED_SIGNUP message event to the opener, then the login result (the code) comes back
// through the callback, as with Meta's SDK.
'use strict';
(function () {
  var sdkOrigin = new URL(document.currentScript.src).origin;
  var appId = null;

  window.FB = {
    init: function (options) {
      appId = (options && options.appId) || null;
    },
    login: function (callback, options) {
      var query = new URLSearchParams({ origin: window.location.origin, app_id: appId || '', launch: JSON.stringify(options || {}) });
      var popup = window.open(sdkOrigin + '/embedded-signup/dialog?' + query.toString(), 'mm_sandbox_embedded_signup', 'popup,width=560,height=720');
      if (!popup) return callback({ status: 'unknown', authResponse: null });
      var done = false;
      var watch = setInterval(function () {
        // Closed without an answer: what Meta's SDK reports for a window the user shut.
        if (popup.closed) setTimeout(function () { finish({ status: 'unknown', authResponse: null }); }, 500);
      }, 250);
      function onMessage(event) {
        if (event.origin !== sdkOrigin || event.source !== popup) return;
        var message = event.data;
        if (!message || message.type !== 'SANDBOX_FB_LOGIN_RESULT') return;
        finish(message.authResponse ? { status: 'connected', authResponse: message.authResponse } : { status: 'unknown', authResponse: null });
      }
      function finish(response) {
        if (done) return;
        done = true;
        clearInterval(watch);
        window.removeEventListener('message', onMessage);
        callback(response);
      }
      window.addEventListener('message', onMessage);
    },
  };

  if (typeof window.fbAsyncInit === 'function') setTimeout(window.fbAsyncInit, 0);
})();
