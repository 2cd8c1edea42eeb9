// A vendored CommonJS module, as a team would vendor lodash or its own helpers.
var directory = {
  'ada@example.com': ['admin', 'engineer'],
  'grace@example.com': ['engineer'],
  'mallory@example.com': ['admin', 'contractor'],
};
module.exports = {
  rolesFor: function (email) { return directory[email] || ['guest']; },
};
