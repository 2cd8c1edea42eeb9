/**
 * Tell #signups on Slack about each new user (the login does not wait for Slack).
 */
function notifySlackOnSignup(user, context, callback) {
  if (context.stats.loginsCount > 1) {
    return callback(null, user, context);
  }
  request.post({
    url: configuration.SLACK_HOOK_URL,
    json: { text: 'New user: ' + (user.email || user.user_id) + ' via ' + context.connection }
  }, function (err) {
    if (err) console.log('slack: ' + err.message);
  });
  callback(null, user, context);
}
