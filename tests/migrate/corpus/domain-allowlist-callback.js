/**
 * Partners' staff only: a verified address at one of the partner domains.
 * Written the way the classic allowlist template is: a `some` callback that
 * splits the address and compares its last part.
 */
function partnerDomains(user, context, callback) {
  if (!user.email || !user.email_verified) {
    return callback(new UnauthorizedError('Access denied.'));
  }

  const partners = ['partner.example', 'partner-labs.example']; // allowed domains
  const isPartner = partners.some(function (partner) {
    const parts = user.email.split('@');
    const last = parts[parts.length - 1];
    return last.toLowerCase() === partner;
  });

  if (!isPartner) {
    return callback(new UnauthorizedError('Access denied.'));
  }
  return callback(null, user, context);
}
