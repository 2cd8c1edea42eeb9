function tagRoles(user, context, callback) {
  user.app_metadata = user.app_metadata || {};
  const roles = context.authorization.roles;
  if (roles.indexOf('admin') !== -1) {
    user.app_metadata.tier = 'admin';
  } else {
    user.app_metadata.tier = 'member';
  }
  user.app_metadata.checked = true;
  auth0.users.updateAppMetadata(user.user_id, user.app_metadata)
    .then(function () {
      context.idToken['https://example.com/tier'] = user.app_metadata.tier;
      callback(null, user, context);
    })
    .catch(function (err) {
      callback(err);
    });
}
