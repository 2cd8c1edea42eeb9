// The resource-owner password grant is only allowed for the legacy CLI.
function protocolGate(user, context, callback) {
  if (context.protocol === 'oauth2-resource-owner' && context.clientName !== 'Legacy CLI') {
    return callback(new UnauthorizedError('The password grant is not allowed for this application.'));
  }
  if (context.connection === 'google-oauth2' && !user.email_verified) {
    return callback(new UnauthorizedError('Please verify your Google address.'));
  }
  callback(null, user, context);
}
