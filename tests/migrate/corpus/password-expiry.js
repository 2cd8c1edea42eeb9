/**
 * Database users must reset their password every 90 days.
 */
function passwordExpiry(user, context, callback) {
  if (context.connection !== 'Username-Password-Authentication') return callback(null, user, context);
  if (user.last_password_reset) {
    const age = Date.now() - new Date(user.last_password_reset).getTime();
    if (age > 90 * 24 * 60 * 60 * 1000) {
      return callback(new UnauthorizedError('Your password is older than 90 days: please reset it.'));
    }
  }
  callback(null, user, context);
}
