// Flatten the AD groups into role names.
function groupsLoop(user, context, callback) {
  var groups = user.groups || [];
  var roles = [];
  for (var i = 0; i < groups.length; i++) {
    if (groups[i].indexOf('app-') === 0) {
      roles.push(groups[i].substr(4));
    }
  }
  context.idToken['https://example.com/roles'] = roles;
  callback(null, user, context);
}
