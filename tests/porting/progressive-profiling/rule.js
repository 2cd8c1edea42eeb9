/**
 * From the third login on, ask for the company and job title the profile lacks (at most
 * once a week), and keep the answers with the rest of the profile.
 */
function progressiveProfiling(user, context, callback) {
  const WEEK = 7 * 24 * 60 * 60 * 1000;
  const metadata = user.user_metadata || {};
  const profile = metadata.profile || {};
  const prompt = metadata.profile_prompt || {};
  if (context.protocol === 'redirect-callback') {
    // Back from the form.
    const answers = (context.request && context.request.body) || {};
    metadata.profile = Object.assign({}, profile, { company: answers.company, job_title: answers.job_title });
    user.user_metadata = metadata;
    return auth0.users.updateUserMetadata(user.user_id, { profile: metadata.profile })
      .then(function () { callback(null, user, context); })
      .catch(function (err) { callback(err); });
  }
  const logins = context.stats && context.stats.loginsCount;
  if (logins >= 3 && !profile.company && (prompt.asked_at == null || Date.now() - prompt.asked_at > WEEK)) {
    context.redirect = {
      url: 'https://example.com/complete-profile?login_hint=' + encodeURIComponent(user.email || '')
    };
    metadata.profile_prompt = { asked_at: Date.now(), at_login: logins };
    user.user_metadata = metadata;
    return auth0.users.updateUserMetadata(user.user_id, { profile_prompt: metadata.profile_prompt })
      .then(function () { callback(null, user, context); })
      .catch(function (err) { callback(err); });
  }
  callback(null, user, context);
}
