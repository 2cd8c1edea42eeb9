/**
 * @title Add roles from the company directory (legacy, unmodified)
 */
function addRoles(user, context, callback) {
  const rolemap = require('rolemap');
  const namespace = configuration.ROLE_NAMESPACE;
  user.app_metadata = user.app_metadata || {};
  const roles = rolemap.rolesFor(user.email);
  user.app_metadata.roles = roles;
  context.idToken[namespace + '/roles'] = roles;
  if (roles.indexOf('admin') >= 0) {
    context.accessToken.scope = (context.request.query.scope || 'openid').split(' ').concat(['admin:read']);
  }
  auth0.users.updateAppMetadata(user.user_id, user.app_metadata)
    .then(function () { callback(null, user, context); })
    .catch(function (err) { callback(err); });
}
