function enrichTokens(user, context, callback) {
  var namespace = 'https://example.com/';
  context.idToken[namespace + 'roles'] = (context.authorization || {}).roles || [];
  if (context.request.geoip) {
    context.idToken[namespace + 'country'] = context.request.geoip.country_name;
  }
  if (user.email && user.email.slice(-12) === '@example.com') {
    context.accessToken.scope = ['openid', 'profile', 'admin:read'];
  }
  callback(null, user, context);
}
