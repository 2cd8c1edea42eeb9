// Apps read the user's roles from the ID token.
function rolesInIdToken(user, context, callback) {
  const namespace = 'https://acme.example/';
  const roles = (context.authorization && context.authorization.roles) || [];
  context.idToken[namespace + 'roles'] = roles;
  context.idToken[namespace + 'admin'] = roles.includes('admin');
  callback(null, user, context);
}
