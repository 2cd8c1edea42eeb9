// Greet the user by name in the token.
function greetingTernary(user, context, callback) {
  const name = user.given_name ? user.given_name : 'there';
  context.idToken['https://example.com/greeting'] = 'Hello, ' + name + '!';
  callback(null, user, context);
}
