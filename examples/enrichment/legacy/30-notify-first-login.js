/**
 * Tell the team's Slack channel about each new user (in the style of the Slack rule
 * template): the message is posted without waiting for it, and the login goes on at once.
 */
function notifyFirstLogin(user, context, callback) {
  if (context.stats.loginsCount > 1 || context.protocol === 'oauth2-refresh-token') {
    return callback(null, user, context);
  }
  const message = 'New user: ' + (user.name || user.email) + ' (' + user.email + ') via ' + context.connection;
  request.post({
    url: configuration.SLACK_HOOK_URL,
    json: { text: message },
  }, function (err) {
    if (err) console.log('slack notification failed: ' + err.message);
  });
  callback(null, user, context);
}
