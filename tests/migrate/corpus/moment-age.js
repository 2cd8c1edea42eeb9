// Accounts younger than a day may not use the admin app.
function momentAge(user, context, callback) {
  const moment = require('moment');
  if (context.clientName === 'Admin' && moment().diff(moment(user.created_at), 'hours') < 24) {
    return callback(new UnauthorizedError('New accounts cannot use the admin app yet.'));
  }
  callback(null, user, context);
}
