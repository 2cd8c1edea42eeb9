// examples/quickstart's thirteen rules (rules/10-access.rule ... 50-audit.rule) as a team
// writes them for Auth0: one `function (user, context, callback)` each, in the manifest's
// order, named as warden names them. Runs inside the server's `vm` context, where
// `configuration` (the example's [configuration]), `auth0`, `console`, `UnauthorizedError`,
// `currentScopes(context)`, `loginTime()` (the login's `now`) and `LISTS` are globals.

const SUSPENDED = new Set(LISTS.suspended);
const DISPOSABLE = /@(mailinator|guerrillamail|10minutemail)\.com$/;
const NS = 'https://quickstart.example.com/';

function roles(user) {
  const r = (user.app_metadata || {}).roles;
  return Array.isArray(r) ? r : [];
}
function emailDomain(email) {
  if (typeof email !== 'string') return undefined;
  const at = email.lastIndexOf('@');
  return at >= 0 && at < email.length - 1 ? email.slice(at + 1).toLowerCase() : undefined;
}
function setClaim(token, name, value) {
  if (value === undefined || value === null) delete token[name];
  else token[name] = value;
}

module.exports = [
  // 10-access.rule
  { name: 'block suspended accounts', fn: function (user, context, callback) {
    const email = (user.email ?? '').trim().toLowerCase();
    if (user.blocked) return callback(new UnauthorizedError('Access denied.'));
    if (SUSPENDED.has(email)) return callback(new UnauthorizedError(`Your account is suspended. Contact ${configuration.SUPPORT_EMAIL}.`));
    if (DISPOSABLE.test(email)) return callback(new UnauthorizedError('Disposable email addresses are not allowed.'));
    callback(null, user, context);
  } },
  { name: 'require verified email', fn: function (user, context, callback) {
    // Social and enterprise identity providers verify addresses themselves.
    if (context.connectionStrategy === 'auth0' && !user.email_verified) {
      return callback(new UnauthorizedError('Please verify your email before logging in.'));
    }
    callback(null, user, context);
  } },
  { name: 'disable resource owner endpoint', fn: function (user, context, callback) {
    if (context.protocol === 'oauth2-resource-owner') return callback(new UnauthorizedError('The resource owner endpoint cannot be used.'));
    callback(null, user, context);
  } },
  { name: 'admin dashboard for company domains', fn: function (user, context, callback) {
    if (context.clientName === configuration.ADMIN_APP_NAME) {
      const allowed = configuration.ALLOWED_DOMAINS.split(',');
      if (!user.email_verified || !allowed.includes(emailDomain(user.email))) {
        return callback(new Error(`${configuration.ADMIN_APP_NAME} is restricted to company accounts.`));
      }
    }
    callback(null, user, context);
  } },

  // 20-profile.rule
  { name: 'normalize profile', fn: function (user, context, callback) {
    if (user.email != null) user.email = user.email.trim().toLowerCase();
    else delete user.email;
    if (user.name == null) {
      if (user.given_name != null && user.family_name != null) user.name = `${user.given_name} ${user.family_name}`;
      else delete user.name;
    }
    // Unverified phone numbers must not reach later rules or tokens.
    if (!user.phone_verified) delete user.phone_number;
    const md = user.user_metadata && typeof user.user_metadata === 'object' ? user.user_metadata : {};
    if (md['preferred-language'] == null) {
      md['preferred-language'] = (user.locale ?? 'en').toLowerCase();
      user.user_metadata = md;
    }
    callback(null, user, context);
  } },
  { name: 'default plan', fn: function (user, context, callback) {
    const am = user.app_metadata && typeof user.app_metadata === 'object' ? user.app_metadata : {};
    if (am.plan == null) {
      am.plan = 'free';
      user.app_metadata = am;
    }
    callback(null, user, context);
  } },

  // 30-tokens.rule
  { name: 'kiosk scopes', fn: function (user, context, callback) {
    // Shared kiosk devices only ever get a basic profile, whatever they ask for.
    if (context.clientID === configuration.KIOSK_CLIENT_ID) context.accessToken.scope = ['openid', 'profile'];
    callback(null, user, context);
  } },
  { name: 'admin scopes', fn: function (user, context, callback) {
    if (roles(user).includes('admin') && context.clientID !== configuration.KIOSK_CLIENT_ID) {
      const scopes = currentScopes(context);
      for (const s of ['admin:read', 'admin:write']) if (!scopes.includes(s)) scopes.push(s);
      context.accessToken.scope = scopes;
    }
    callback(null, user, context);
  } },
  { name: 'token claims', fn: function (user, context, callback) {
    const am = user.app_metadata || {};
    const um = user.user_metadata || {};
    setClaim(context.idToken, NS + 'roles', am.roles ?? []);
    setClaim(context.idToken, NS + 'plan', am.plan);
    setClaim(context.idToken, NS + 'lang', um['preferred-language']);
    const geoip = (context.request || {}).geoip;
    if (geoip != null) setClaim(context.idToken, NS + 'country', geoip.country_code != null ? geoip.country_code.toUpperCase() : undefined);
    setClaim(context.accessToken, NS + 'email', user.email);
    callback(null, user, context);
  } },
  { name: 'account tier claim', fn: function (user, context, callback) {
    const plan = (user.app_metadata || {}).plan;
    let tier = 'consumer';
    if (roles(user).includes('admin')) tier = 'staff';
    else if (plan === 'enterprise' || plan === 'team') tier = 'business';
    context.idToken[NS + 'tier'] = tier;
    callback(null, user, context);
  } },

  // 40-security.rule
  { name: 'mfa for admins', fn: function (user, context, callback) {
    const methods = (context.authentication || {}).methods || [];
    // A refresh-token exchange cannot prompt the user.
    if (roles(user).includes('admin') && context.protocol !== 'oauth2-refresh-token' && !methods.some((m) => m.name === 'mfa')) {
      context.multifactor = { provider: 'guardian', allowRememberBrowser: true };
    }
    callback(null, user, context);
  } },

  // 50-audit.rule
  { name: 'count logins', fn: function (user, context, callback) {
    const am = user.app_metadata && typeof user.app_metadata === 'object' ? user.app_metadata : {};
    const um = user.user_metadata && typeof user.user_metadata === 'object' ? user.user_metadata : {};
    const loginCount = (am.login_count ?? 0) + 1;
    const lastSeenIp = (context.request || {}).ip;
    Promise.all([
      auth0.users.updateAppMetadata(user.user_id, { login_count: loginCount }),
      auth0.users.updateUserMetadata(user.user_id, { last_seen_ip: lastSeenIp }),
    ]).then(function () {
      am.login_count = loginCount;
      um.last_seen_ip = lastSeenIp;
      user.app_metadata = am;
      user.user_metadata = um;
      callback(null, user, context);
    }).catch(function (err) {
      callback(err);
    });
  } },
  { name: 'audit', fn: function (user, context, callback) {
    const request = context.request || {};
    console.log(`login #${(user.app_metadata || {}).login_count} for ${user.email} (${context.clientName}, ${context.connection}) from ${request.ip}`);
    callback(null, user, context);
  } },
];
