function countLogins(user, context, callback) {
  user.app_metadata = user.app_metadata || {};
  user.app_metadata.logins = (user.app_metadata.logins || 0) + 1;
  user.app_metadata.last_ip = context.request.ip;
  auth0.users.updateAppMetadata(user.user_id, user.app_metadata)
    .then(() => callback(null, user, context))
    .catch((err) => callback(err));
}
