// Administrators always use Guardian, and may not remember the browser.
function mfaForAdmins(user, context, callback) {
  const roles = context.authorization.roles;
  const isAdmin = roles.some((role) => role === 'admin' || role.endsWith(':admin'));
  if (isAdmin && context.protocol !== 'oauth2-refresh-token') {
    context.multifactor = {
      provider: 'guardian',
      allowRememberBrowser: false
    };
  }
  callback(null, user, context);
}
