// Nicknames may only hold letters, digits, dots and dashes.
function nicknameRegex(user, context, callback) {
  if (user.nickname && !/^[a-z0-9.-]+$/i.test(user.nickname)) {
    return callback(new UnauthorizedError('Please choose a simpler nickname.'));
  }
  callback(null, user, context);
}
