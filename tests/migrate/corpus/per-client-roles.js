/**
 * Each application has its own roles in app_metadata, keyed by client id.
 */
function perClientRoles(user, context, callback) {
  const appMetadata = user.app_metadata || {};
  const byClient = appMetadata.roles_by_client || {};
  const roles = byClient[context.clientID] || [];
  context.idToken['https://example.com/roles'] = roles;
  callback(null, user, context);
}
