// Link accounts with the same verified email (looks up other users).
function linkAccounts(user, context, callback) {
  if (!user.email || !user.email_verified) {
    return callback(null, user, context);
  }
  auth0.users.getAll({ q: 'email:"' + user.email + '"' })
    .then(function (users) {
      if (users.length > 1) {
        context.primaryUser = users[0].user_id;
      }
      callback(null, user, context);
    })
    .catch(function (err) { callback(err); });
}
