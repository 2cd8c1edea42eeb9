/**
 * Refuse logins from addresses that attacked us before.
 */
function ipDenylist(user, context, callback) {
  var blocked = ['203.0.113.9', '198.51.100.77', '2001:db8::dead'];
  if (blocked.indexOf(context.request.ip) !== -1) {
    return callback(new Error('Logins from this address are blocked.'));
  }
  return callback(null, user, context);
}
