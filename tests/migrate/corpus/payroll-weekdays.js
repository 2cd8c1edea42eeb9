/**
 * Payroll may only be used on weekdays, during office hours (UTC).
 */
function payrollWeekdays(user, context, callback) {
  if (context.clientName !== 'Payroll') {
    return callback(null, user, context);
  }
  const day = new Date().getUTCDay();
  const hour = new Date().getUTCHours();
  // Sunday is 0 and Saturday 6.
  if (day === 0 || day === 6) {
    return callback(new UnauthorizedError('Payroll is closed at weekends.'));
  }
  if (hour < 8 || hour >= 18) {
    return callback(new UnauthorizedError('Payroll is open from 8:00 to 18:00 UTC.'));
  }
  callback(null, user, context);
}
