/**
 * Tell the team on Slack when someone logs in for the first time.
 */
function slackFirstLogin(user, context, callback) {
  if (context.stats.loginsCount > 1) {
    return callback(null, user, context);
  }
  const message = 'New user: ' + (user.email || user.user_id);
  request.post({
    url: configuration.SLACK_HOOK_URL,
    json: { text: message }
  }, function () {
    // Whatever Slack says, the login goes on.
  });
  callback(null, user, context);
}
