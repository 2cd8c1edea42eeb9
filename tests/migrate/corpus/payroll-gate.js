/**
 * Payroll is for verified company staff, during office hours (UTC), from the office.
 */
function payrollGate(user, context, callback) {
  // Only the payroll app.
  if (context.clientName !== 'Payroll') {
    return callback(null, user, context);
  }
  if (!user.email || !user.email_verified) {
    return callback(new UnauthorizedError('Please verify your email before logging in.'));
  }
  const domain = user.email.split('@').pop().toLowerCase();
  const allowed = ['example.com', 'example.org'];
  if (!allowed.includes(domain)) {
    return callback(new UnauthorizedError('Access denied.'));
  }
  const day = new Date().getUTCDay();
  const hour = new Date().getUTCHours();
  if (day === 0 || day === 6 || hour < 8 || hour >= 18) {
    return callback(new Error('Payroll is closed.'));
  }
  const ips = ['203.0.113.7', '198.51.100.20'];
  if (ips.indexOf(context.request.ip) === -1) {
    context.multifactor = { provider: 'any', allowRememberBrowser: false };
  }
  const namespace = 'https://example.com/';
  const roles = (context.authorization && context.authorization.roles) || [];
  context.idToken[namespace + 'roles'] = roles.map(r => r.toLowerCase());
  context.idToken[`${namespace}is_admin`] = roles.some(function (r) { return r === 'admin'; });
  context.accessToken.scope = ['openid', 'profile'];
  if (user.nickname) {
    user.nickname = user.nickname.trim();
  }
  callback(null, user, context);
}
