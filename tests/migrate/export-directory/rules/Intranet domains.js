/**
 * The intranet is for employees: addresses at our two domains only.
 */
function intranetDomains(user, context, callback) {
  // Other applications are not concerned.
  if (context.clientName !== 'Intranet') {
    return callback(null, user, context);
  }
  if (!user.email) {
    return callback(new UnauthorizedError('The intranet needs an email address.'));
  }
  const domain = user.email.split('@').pop().toLowerCase();
  const allowed = ['acme.example', 'acme-labs.example'];
  if (allowed.indexOf(domain) === -1) {
    return callback(new UnauthorizedError('The intranet is for Acme employees.'));
  }
  callback(null, user, context);
}
