// examples/bench's fifteen rules (rules/access.rule, profile.rule, tokens.rule,
// security.rule) as a team writes them for Auth0: one `function (user, context, callback)`
// each, in the manifest's order, named as warden names them. Runs inside the server's `vm`
// context (globals: `configuration`, `auth0`, `console`, `UnauthorizedError`,
// `currentScopes(context)`, `loginTime()`, `LISTS`). The access rules are those of
// bench/peers/node-vm.js, with the networks read from the example's list file.

const BLOCKED = new Set(LISTS.blockedEmails);

// IP addresses as 16 bytes (IPv4 as its IPv4-mapped IPv6 form, so that both forms are one
// address, as warden's ip_in has it). What a team would take from ipaddr.js; a malformed
// address throws, which denies the login (warden: a rule error).
function parseIp(text) {
  const v4 = (s) => {
    const parts = s.split('.');
    if (parts.length !== 4) return null;
    const out = [];
    for (const p of parts) {
      if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
      out.push(Number(p));
    }
    return out;
  };
  if (typeof text !== 'string') throw new Error(`not an IP address: ${text}`);
  const four = v4(text);
  if (four) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff].concat(four);
  let s = text.toLowerCase();
  let tail = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const t = v4(dotted[2]);
    if (!t) throw new Error(`not an IP address: ${text}`);
    tail = [(t[0] << 8) | t[1], (t[2] << 8) | t[3]];
    s = dotted[1].endsWith('::') ? dotted[1] : dotted[1].slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) throw new Error(`not an IP address: ${text}`);
  const words = (h) => (h === '' ? [] : h.split(':').map((w) => {
    if (!/^[0-9a-f]{1,4}$/.test(w)) throw new Error(`not an IP address: ${text}`);
    return parseInt(w, 16);
  }));
  let groups;
  if (halves.length === 2) {
    const head = words(halves[0]);
    const rest = words(halves[1]).concat(tail);
    const fill = 8 - head.length - rest.length;
    if (fill < 1) throw new Error(`not an IP address: ${text}`);
    groups = head.concat(new Array(fill).fill(0), rest);
  } else {
    groups = words(s).concat(tail);
  }
  if (groups.length !== 8) throw new Error(`not an IP address: ${text}`);
  const bytes = [];
  for (const g of groups) bytes.push(g >> 8, g & 0xff);
  return bytes;
}
function network(text) {
  const [addr, bits] = text.split('/');
  const bytes = parseIp(addr);
  const isV4 = !addr.includes(':');
  const prefix = bits === undefined ? 128 : Number(bits) + (isV4 ? 96 : 0);
  return { bytes, prefix };
}
function inNetwork(bytes, net) {
  let bits = net.prefix;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i] & mask) !== (net.bytes[i] & mask)) return false;
  }
  return true;
}
function ipIn(ip, nets) {
  const bytes = parseIp(ip);
  return nets.some((n) => inNetwork(bytes, n));
}
const BLOCKED_NETWORKS = LISTS.blockedNetworks.map(network);
const OFFICE = ['10.0.0.0/8', '172.16.0.0/12', '2001:db8:10::/48'].map(network);
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

function emailDomain(email) {
  if (typeof email !== 'string') return undefined;
  const at = email.lastIndexOf('@');
  return at >= 0 && at < email.length - 1 ? email.slice(at + 1).toLowerCase() : undefined;
}
function roles(context) {
  const r = (context.authorization || {}).roles;
  return Array.isArray(r) ? r : [];
}
function setClaim(token, name, value) {
  if (value === undefined || value === null) delete token[name];
  else token[name] = value;
}

module.exports = [
  // access.rule
  { name: 'blocked addresses', fn: function (user, context, callback) {
    if (BLOCKED.has((user.email ?? '').toLowerCase())) return callback(new UnauthorizedError('This account is blocked.'));
    callback(null, user, context);
  } },
  { name: 'blocked networks', fn: function (user, context, callback) {
    if (ipIn(context.request.ip, BLOCKED_NETWORKS)) return callback(new Error('Access denied from this network.'));
    callback(null, user, context);
  } },
  { name: 'verified email for database users', fn: function (user, context, callback) {
    if (context.connectionStrategy === 'auth0' && !user.email_verified) {
      return callback(new UnauthorizedError('Please verify your email before logging in.'));
    }
    callback(null, user, context);
  } },
  { name: 'no resource owner endpoint', fn: function (user, context, callback) {
    if (context.protocol === 'oauth2-resource-owner') return callback(new UnauthorizedError('The resource owner endpoint cannot be used.'));
    callback(null, user, context);
  } },
  { name: 'admin console for company domains', fn: function (user, context, callback) {
    if (context.clientName === configuration.ADMIN_APP) {
      if (!['example.com', 'example.org', 'corp.example.net'].includes(emailDomain(user.email))) {
        return callback(new UnauthorizedError('Access denied.'));
      }
    }
    callback(null, user, context);
  } },
  { name: 'payroll from the office on weekdays', fn: function (user, context, callback) {
    if (context.clientName === configuration.PAYROLL_APP) {
      if (!ipIn(context.request.ip, OFFICE)) return callback(new UnauthorizedError('Payroll is available from the office only.'));
      const day = WEEKDAYS[new Date(loginTime()).getUTCDay()];
      if (day === 'saturday' || day === 'sunday') return callback(new UnauthorizedError('Payroll is closed at weekends.'));
    }
    callback(null, user, context);
  } },

  // profile.rule
  { name: 'normalize email', fn: function (user, context, callback) {
    if (user.email != null) user.email = user.email.trim().toLowerCase();
    callback(null, user, context);
  } },
  { name: 'full name', fn: function (user, context, callback) {
    if (user.name == null && user.given_name != null && user.family_name != null) {
      user.name = `${user.given_name} ${user.family_name}`;
    }
    callback(null, user, context);
  } },

  // tokens.rule
  { name: 'roles claim', fn: function (user, context, callback) {
    const r = (context.authorization || {}).roles;
    setClaim(context.idToken, 'https://example.com/roles', r);
    setClaim(context.accessToken, 'https://example.com/roles', r);
    callback(null, user, context);
  } },
  { name: 'email claim', fn: function (user, context, callback) {
    if (user.email_verified) setClaim(context.accessToken, 'https://example.com/email', user.email);
    callback(null, user, context);
  } },
  { name: 'country claim', fn: function (user, context, callback) {
    const geoip = context.request.geoip;
    if (geoip != null) setClaim(context.idToken, 'https://example.com/country', geoip.country_code);
    callback(null, user, context);
  } },
  { name: 'admin scopes', fn: function (user, context, callback) {
    if (roles(context).includes('admin')) {
      const scopes = currentScopes(context);
      for (const s of ['admin:read', 'admin:write']) if (!scopes.includes(s)) scopes.push(s);
      context.accessToken.scope = scopes;
    }
    callback(null, user, context);
  } },
  { name: 'no destructive scopes for others', fn: function (user, context, callback) {
    if (!roles(context).includes('admin')) {
      context.accessToken.scope = currentScopes(context).filter((s) => s !== 'delete:users');
    }
    callback(null, user, context);
  } },

  // security.rule
  { name: 'mfa for admins', fn: function (user, context, callback) {
    const methods = (context.authentication || {}).methods || [];
    if (roles(context).includes('admin') && !methods.some((m) => m.name === 'mfa')) {
      context.multifactor = { provider: 'any', allowRememberBrowser: false };
    }
    callback(null, user, context);
  } },
  { name: 'step-up for new devices', fn: function (user, context, callback) {
    const newDevice = ((context.riskAssessment || {}).assessments || {}).NewDevice || {};
    if (newDevice.confidence === 'low') context.multifactor = { provider: 'guardian', allowRememberBrowser: false };
    callback(null, user, context);
  } },
];
