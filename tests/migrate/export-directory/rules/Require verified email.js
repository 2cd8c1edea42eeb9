/**
 * Nobody logs in before verifying their email address.
 */
function requireVerifiedEmail(user, context, callback) {
  if (!user.email_verified) {
    return callback(new UnauthorizedError('Please verify your email before logging in.'));
  }
  return callback(null, user, context);
}
