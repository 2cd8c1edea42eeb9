// Users of the database connection must change their password every 90 days.
function passwordAge(user, context, callback) {
  if (context.connection !== 'Username-Password-Authentication') {
    return callback(null, user, context);
  }
  var lastReset = user.last_password_reset || user.created_at;
  if (!lastReset) {
    return callback(null, user, context);
  }
  var age = Date.now() - new Date(lastReset).getTime();
  if (age > 90 * 24 * 60 * 60 * 1000) {
    return callback(new UnauthorizedError('Your password has expired. Please reset it.'));
  }
  callback(null, user, context);
}
