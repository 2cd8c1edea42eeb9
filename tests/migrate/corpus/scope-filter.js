/**
 * Users only get the scopes their roles allow; the rest of what the app asked for is dropped.
 */
function scopeFilter(user, context, callback) {
  const requested = (context.request.query.scope || '').split(' ');
  const roles = context.authorization.roles;
  const allowed = ['openid', 'profile', 'email'];
  if (roles.includes('reporter')) {
    allowed.push('read:reports');
  }
  context.accessToken.scope = requested.filter((s) => allowed.includes(s));
  callback(null, user, context);
}
