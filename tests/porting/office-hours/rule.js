/**
 * The back office is open 9:00 to 17:00, Monday to Friday, in the user's own time zone.
 */
function backOfficeHours(user, context, callback) {
  if (context.clientName !== 'Back Office') return callback(null, user, context);
  const moment = require('moment-timezone@0.5.48');
  const geoip = (context.request && context.request.geoip) || {};
  const zone = geoip.time_zone ?? 'UTC';
  if (!moment.tz.zone(zone)) {
    throw new Error('unknown time zone: ' + zone);
  }
  const local = moment().tz(zone);
  const weekend = local.day() === 0 || local.day() === 6;
  if (weekend || local.hour() < 9 || local.hour() >= 17) {
    return callback(new UnauthorizedError('The back office is open 9:00 to 17:00, Monday to Friday.'));
  }
  callback(null, user, context);
}
