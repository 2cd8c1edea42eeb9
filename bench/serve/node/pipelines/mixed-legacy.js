// examples/mixed-legacy: the two `.rule` files translated to Auth0-style functions, and the
// example's two legacy JavaScript rules run as they are (`legacy`: the server reads each file
// and compiles it in the context; its name is the manifest's `name`, else the function's, as
// in warden). Globals in the context: `configuration` (the example's [configuration]),
// `require` (the example's [modules]: `rolemap`), `auth0`, `console`, `UnauthorizedError`.

function appRoles(user) {
  const r = (user.app_metadata || {}).roles;
  return Array.isArray(r) ? r : [];
}

module.exports = [
  // rules/10-normalize.rule
  { name: 'normalize email', fn: function (user, context, callback) {
    if (user.email != null) user.email = user.email.trim().toLowerCase();
    callback(null, user, context);
  } },
  // legacy/20-add-roles.js (its function is named addRoles)
  { legacy: 'legacy/20-add-roles.js' },
  // legacy/30-email-verified.js, named in warden.toml
  { legacy: 'legacy/30-email-verified.js', name: 'email verified (legacy)' },
  // rules/40-gate.rule
  { name: 'admins need MFA', fn: function (user, context, callback) {
    const methods = (context.authentication || {}).methods || [];
    if (appRoles(user).includes('admin') && !methods.some((m) => m.name === 'mfa')) {
      context.multifactor = { provider: 'any', allowRememberBrowser: false };
    }
    callback(null, user, context);
  } },
  { name: 'contractors stay out of the admin API', fn: function (user, context, callback) {
    const scope = context.accessToken.scope;
    const scopes = Array.isArray(scope) ? scope : typeof scope === 'string' ? scope.split(/\s+/) : [];
    if (appRoles(user).includes('contractor') && scopes.includes('admin:read')) {
      return callback(new Error('Contractors cannot use admin scopes.'));
    }
    callback(null, user, context);
  } },
];
