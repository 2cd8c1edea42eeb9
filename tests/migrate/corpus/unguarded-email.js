// Lower-case the email domain check (no guard: users without an email fail).
function unguardedEmail(user, context, callback) {
  const domain = user.email.toLowerCase().split('@')[1];
  if (domain !== 'example.com') {
    return callback(new UnauthorizedError('Only example.com accounts.'));
  }
  callback(null, user, context);
}
