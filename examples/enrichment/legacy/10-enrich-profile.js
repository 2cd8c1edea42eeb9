/**
 * Enrich the profile from the company-data API (in the style of the Clearbit and FullContact
 * rule templates): an access token from the API's token endpoint, cached in `global` across
 * logins, then a lookup by email. The company goes into the ID token; a failed lookup never
 * blocks the login.
 */
function enrichProfile(user, context, callback) {
  if (!user.email || !user.email_verified) return callback(null, user, context);

  function withToken(cb) {
    const cached = global.enrichToken;
    if (cached && cached.expiresAt > Date.now()) return cb(null, cached.value);
    request.post({
      url: 'https://auth.enrich.example.com/oauth/token',
      json: {
        grant_type: 'client_credentials',
        client_id: configuration.ENRICH_CLIENT_ID,
        client_secret: configuration.ENRICH_CLIENT_SECRET,
      },
    }, function (err, response, body) {
      if (err) return cb(err);
      if (response.statusCode !== 200) return cb(new Error('token endpoint answered ' + response.statusCode));
      global.enrichToken = { value: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
      cb(null, body.access_token);
    });
  }

  withToken(function (err, token) {
    if (err) {
      console.log('enrichment skipped: ' + err.message);
      return callback(null, user, context);
    }
    request.get({
      url: 'https://api.enrich.example.com/v2/people/find',
      qs: { email: user.email },
      auth: { bearer: token },
      json: true,
      timeout: 2000,
    }, function (err, response, body) {
      if (err || response.statusCode !== 200) {
        console.log('enrichment skipped: ' + (err ? err.message : 'status ' + response.statusCode));
        return callback(null, user, context);
      }
      const namespace = 'https://example.com/';
      context.idToken[namespace + 'company'] = body.employment && body.employment.name;
      context.idToken[namespace + 'seniority'] = body.employment && body.employment.seniority;
      callback(null, user, context);
    });
  });
}
