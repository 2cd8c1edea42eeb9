/**
 * The user's roles in both tokens, and a flag apps can read without searching the list.
 */
function rolesToClaims(user, context, callback) {
  const namespace = 'https://example.com/';
  const roles = (context.authorization && context.authorization.roles) || [];
  context.idToken[namespace + 'roles'] = roles;
  context.accessToken[namespace + 'roles'] = roles;
  context.idToken[namespace + 'is_admin'] = roles.indexOf('admin') !== -1;
  callback(null, user, context);
}
