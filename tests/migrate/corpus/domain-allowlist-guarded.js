// Only verified addresses at our domains, for every application.
function allowCompanyDomains(user, context, callback) {
  if (!user.email) {
    return callback(new UnauthorizedError('An email address is required.'));
  }
  const domain = user.email.split('@').pop().toLowerCase();
  if (['example.com', 'example.org'].indexOf(domain) === -1 || !user.email_verified) {
    return callback(new UnauthorizedError('Access denied.'));
  }
  callback(null, user, context);
}
