// Reuse the API token between logins.
function cachedToken(user, context, callback) {
  if (global.apiToken && global.apiTokenExpires > Date.now()) {
    context.accessToken['https://example.com/api_token'] = global.apiToken;
    return callback(null, user, context);
  }
  global.apiToken = 'token-' + Date.now();
  global.apiTokenExpires = Date.now() + 3600 * 1000;
  context.accessToken['https://example.com/api_token'] = global.apiToken;
  callback(null, user, context);
}
