function mfaForClient(user, context, callback) {
  var CLIENTS_WITH_MFA = ['k3Zx8wJ2mQ', 'q2hnPxmTUA'];
  // run only for the specified clients
  if (CLIENTS_WITH_MFA.indexOf(context.clientID) !== -1) {
    // uncomment the following if clause in case you want to request a second factor only from user's that have user_metadata.use_mfa === true
    if (user.user_metadata && user.user_metadata.use_mfa) {
      context.multifactor = {
        provider: 'any',
        // optional, defaults to true. Set to false to force authentication every time.
        allowRememberBrowser: false
      };
    }
  }
  callback(null, user, context);
}
