/**
 * Put the user's roles and plan in the tokens, under our namespace.
 */
function rolesClaims(user, context, callback) {
  const namespace = 'https://example.com/';
  const assignedRoles = (context.authorization || {}).roles || [];
  const appMetadata = user.app_metadata || {};
  context.idToken[namespace + 'roles'] = assignedRoles;
  context.accessToken[namespace + 'roles'] = assignedRoles;
  context.accessToken[`${namespace}admin`] = assignedRoles.includes('admin');
  if (appMetadata.plan) {
    context.idToken[namespace + 'plan'] = appMetadata.plan;
  }
  callback(null, user, context);
}
