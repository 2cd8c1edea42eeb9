/**
 * Ask for consent to the terms once, through the consent form, and remember the answer.
 */
function consentRedirect(user, context, callback) {
  user.app_metadata = user.app_metadata || {};
  if (user.app_metadata.terms_accepted === true) {
    return callback(null, user, context);
  }
  if (context.protocol === 'redirect-callback') {
    if (context.request.body.accept !== 'yes') {
      return callback(new UnauthorizedError('You must accept the terms to continue.'));
    }
    user.app_metadata.terms_accepted = true;
    return auth0.users.updateAppMetadata(user.user_id, user.app_metadata)
      .then(function () {
        callback(null, user, context);
      })
      .catch(function (err) {
        callback(err);
      });
  }
  context.redirect = {
    url: 'https://consent.example.com/terms?client=' + context.clientID
  };
  return callback(null, user, context);
}
