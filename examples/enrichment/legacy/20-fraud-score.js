/**
 * Deny logins the fraud-scoring service rates above the threshold (in the style of the
 * MaxMind and Castle rule templates), with axios. When the service cannot be reached the
 * login goes on, as the rule's owners chose: failing open on scoring, never on identity.
 */
async function fraudScore(user, context, callback) {
  const axios = require('axios@0.27.2');
  const threshold = Number(configuration.FRAUD_THRESHOLD || '0.8');
  let score;
  try {
    const response = await axios.post('https://fraud.example.com/v1/score', {
      user_id: user.user_id,
      email: user.email,
      ip: context.request.ip,
      user_agent: context.request.userAgent,
    }, {
      headers: { 'X-Api-Key': configuration.FRAUD_API_KEY },
      timeout: 1500,
    });
    score = response.data.score;
  } catch (e) {
    console.log('fraud score unavailable: ' + (e.response ? 'status ' + e.response.status : e.message));
    return callback(null, user, context);
  }
  if (typeof score === 'number' && score > threshold) {
    return callback(new UnauthorizedError('Login blocked: unusual activity.'));
  }
  context.accessToken['https://example.com/risk'] = score;
  return callback(null, user, context);
}
