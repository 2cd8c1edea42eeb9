// Everyone gets the "user" role in the token, plus their own.
function roleMutation(user, context, callback) {
  const roles = context.authorization.roles.slice();
  roles.push('user');
  roles.sort();
  context.idToken['https://example.com/roles'] = roles;
  callback(null, user, context);
}
