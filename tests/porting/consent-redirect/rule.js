/**
 * Send users who have not accepted the terms to the consent form; when they come back,
 * record a yes and refuse the login otherwise.
 */
function consent(user, context, callback) {
  const metadata = user.app_metadata || {};
  if (metadata.has_consented === true) return callback(null, user, context);
  if (context.protocol === 'redirect-callback') {
    const answers = (context.request && context.request.body) || {};
    if (answers.confirm !== 'yes') {
      return callback(new UnauthorizedError('User did not consent!'));
    }
    metadata.has_consented = true;
    user.app_metadata = metadata;
    return auth0.users.updateAppMetadata(user.user_id, { has_consented: true })
      .then(function () { callback(null, user, context); })
      .catch(function (err) { callback(err); });
  }
  context.redirect = { url: configuration.CONSENT_FORM_URL + '?auth0_domain=' + auth0.domain };
  callback(null, user, context);
}
