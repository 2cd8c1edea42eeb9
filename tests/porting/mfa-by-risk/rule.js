/**
 * Ask for MFA unless the session already did it or Auth0's risk assessment is confident
 * that the login is the user's; with medium confidence the browser may be remembered.
 */
function mfaByRisk(user, context, callback) {
  const methods = (context.authentication && context.authentication.methods) || [];
  if (methods.some(function (m) { return m && m.name === 'mfa'; })) {
    return callback(null, user, context);
  }
  const risk = context.riskAssessment || {};
  const travel = ((risk.assessments || {}).ImpossibleTravel || {}).confidence;
  if (risk.confidence === 'high' && travel !== 'low') {
    return callback(null, user, context);
  }
  context.multifactor = { provider: 'any', allowRememberBrowser: risk.confidence === 'medium' };
  callback(null, user, context);
}
