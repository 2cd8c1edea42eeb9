/**
 * People without a picture of their own get their Gravatar, falling back to the company's
 * default avatar; pictures served over http are upgraded to https.
 */
function defaultPicture(user, context, callback) {
  const crypto = require('crypto');
  if (!user.email) return callback(null, user, context);
  if (!user.picture || user.picture.indexOf('https://cdn.auth0.com/avatars/') === 0) {
    const hash = crypto.createHash('sha256').update(user.email.trim().toLowerCase()).digest('hex');
    user.picture = 'https://www.gravatar.com/avatar/' + hash + '?s=200&d=' + encodeURIComponent(configuration.DEFAULT_AVATAR);
  } else if (user.picture.indexOf('http://') === 0) {
    user.picture = user.picture.split('http://').join('https://');
  }
  context.idToken.picture = user.picture;
  callback(null, user, context);
}
