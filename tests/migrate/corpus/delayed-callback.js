// Slow down logins that failed recently (a crude throttle).
function delayedCallback(user, context, callback) {
  const failures = (user.app_metadata && user.app_metadata.recent_failures) || 0;
  setTimeout(function () {
    callback(null, user, context);
  }, Math.min(failures, 5) * 100);
}
