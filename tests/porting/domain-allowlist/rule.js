/**
 * Only people with a verified email address at one of the company's domains may log in.
 */
function companyDomainsOnly(user, context, callback) {
  const allowed = ['example.com', 'example.org'];
  if (!user.email || !user.email_verified) {
    return callback(new UnauthorizedError('Access denied.'));
  }
  // The domain is what follows the last "@": "a@example.com"@evil.com is not ours, and
  // neither is an address without an "@".
  const at = user.email.lastIndexOf('@');
  const domain = at === -1 ? '' : user.email.slice(at + 1).toLowerCase();
  if (allowed.indexOf(domain) === -1) {
    return callback(new UnauthorizedError('Access denied.'));
  }
  callback(null, user, context);
}
