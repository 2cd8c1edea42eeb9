function logLogin(user, context, callback) {
  console.log(`login to ${context.clientName} over ${context.protocol}`);
  callback(null, user, context);
}
