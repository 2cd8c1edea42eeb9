// Admins get the admin scopes; everyone else the basic ones.
function scopeByRole(user, context, callback) {
  var roles = context.authorization.roles;
  if (roles.indexOf('admin') >= 0) {
    context.accessToken.scope = ['openid', 'profile', 'admin:read', 'admin:write'];
  } else {
    context.accessToken.scope = ['openid', 'profile'];
  }
  callback(null, user, context);
}
