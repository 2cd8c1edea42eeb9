/**
 * On a user's first login: start a trial unless they already have a plan, remember when
 * they signed up, and tell the app.
 */
function firstLogin(user, context, callback) {
  if (!context.stats || context.stats.loginsCount !== 1) {
    return callback(null, user, context);
  }
  context.idToken['https://example.com/first_login'] = true;
  user.app_metadata = user.app_metadata || {};
  const changes = { signed_up_at: Date.now() };
  if (!user.app_metadata.plan) changes.plan = 'trial';
  Object.assign(user.app_metadata, changes);
  auth0.users.updateAppMetadata(user.user_id, changes)
    .then(function () { callback(null, user, context); })
    .catch(function (err) { callback(err); });
}
