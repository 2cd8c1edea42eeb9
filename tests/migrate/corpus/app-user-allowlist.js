// Only the named people may use the board reporting app.
function boardReportingUsers(user, context, callback) {
  if (context.clientName === 'Board Reporting') {
    const allowed = ['ada@example.com', 'grace@example.org'];
    const email = user.email || '';
    if (!allowed.includes(email.toLowerCase())) {
      return callback(new UnauthorizedError('You are not on the board.'));
    }
  }
  callback(null, user, context);
}
