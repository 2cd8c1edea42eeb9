// Disabled in 2024: blocked logins from one country during an incident.
function legacyGeoBlock(user, context, callback) {
  const country = context.request.geoip && context.request.geoip.country_code;
  if (country === 'XX') {
    return callback(new UnauthorizedError('Logins from your country are paused.'));
  }
  callback(null, user, context);
}
