/**
 * Normalize the profile: lower-case email, trimmed names.
 */
function normalizeProfile(user, context, callback) {
  if (user.email) {
    user.email = user.email.trim().toLowerCase();
  }
  if (user.given_name && user.family_name) {
    user.name = `${user.given_name.trim()} ${user.family_name.trim()}`;
  }
  if (user.nickname) user.nickname = user.nickname.toLowerCase();
  callback(null, user, context);
}
