// Apps only see the roles meant for them: "billing:admin" becomes "admin" for Billing.
function rolePrefixClaim(user, context, callback) {
  if (context.clientName !== 'Billing') return callback(null, user, context);
  const roles = context.authorization.roles
    .filter((r) => r.startsWith('billing:'))
    .map((r) => r.slice(8));
  context.idToken['https://example.com/billing_roles'] = roles;
  return callback(null, user, context);
}
