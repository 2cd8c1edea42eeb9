/**
 * Keep only the requested scopes this user may have: the OpenID Connect ones, and the
 * permissions an administrator granted in app_metadata.
 */
function keepPermittedScopes(user, context, callback) {
  const standard = ['openid', 'profile', 'email'];
  const permissions = (user.app_metadata && user.app_metadata.permissions) || [];
  const request = context.request || {};
  const asked = (request.body && request.body.scope) ?? (request.query && request.query.scope) ?? '';
  context.accessToken.scope = asked.split(' ').filter(function (scope) {
    return standard.indexOf(scope) !== -1 || permissions.indexOf(scope) !== -1;
  });
  callback(null, user, context);
}
