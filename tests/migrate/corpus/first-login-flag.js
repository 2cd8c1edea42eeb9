// Remember the first login and tell the app about it.
async function firstLoginFlag(user, context, callback) {
  if (context.stats.loginsCount > 1) {
    return callback(null, user, context);
  }
  user.user_metadata = user.user_metadata || {};
  user.user_metadata.onboarded = false;
  context.idToken['https://example.com/first_login'] = true;
  try {
    await auth0.users.updateUserMetadata(user.user_id, user.user_metadata);
  } catch (err) {
    return callback(err);
  }
  return callback(null, user, context);
}
