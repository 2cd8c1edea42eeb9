function (user, context, callback) {
  if (!user.email_verified) {
    return callback(new UnauthorizedError('Please verify your email before logging in.'));
  }
  console.log('verified login for ' + user.email);
  return callback(null, user, context);
}
