async function normalize(user, context, callback) {
  if (user.email) {
    user.email = user.email.toLowerCase().trim();
  }
  if (user.name) {
    user.name = user.name.trim();
  }
  try {
    await auth0.users.updateUserMetadata(user.user_id, { normalized: true });
    return callback(null, user, context);
  } catch (err) {
    return callback(err);
  }
}
