/**
 * Only employees of Example Corp (and its subsidiary) may log in to the intranet.
 */
function domainAllowlist(user, context, callback) {
  // Other applications are not concerned.
  if (context.clientID !== 'q2hnPxmTUA') return callback(null, user, context);

  const whitelist = ['example.com', 'example.org']; // authorized domains
  const userHasAccess = whitelist.some(function (domain) {
    const emailSplit = user.email ? user.email.split('@') : [];
    return emailSplit[emailSplit.length - 1].toLowerCase() === domain;
  });
  if (!userHasAccess) {
    return callback(new UnauthorizedError('Access denied.'));
  }
  return callback(null, user, context);
}
