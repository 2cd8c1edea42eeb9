// Send the employee number in SAML responses to the HR app.
function samlMappings(user, context, callback) {
  if (context.clientName !== 'HR Portal') return callback(null, user, context);
  context.samlConfiguration = context.samlConfiguration || {};
  context.samlConfiguration.mappings = {
    'http://schemas.example.com/employee_number': 'app_metadata.employee_number'
  };
  callback(null, user, context);
}
