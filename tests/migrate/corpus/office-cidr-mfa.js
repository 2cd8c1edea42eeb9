/**
 * Outside the office networks, everyone is asked for a second factor.
 */
function officeCidrMfa(user, context, callback) {
  const ipaddr = require('ipaddr.js');
  const addr = ipaddr.process(context.request.ip);
  const inOffice = addr.kind() === 'ipv4' &&
    (addr.match(ipaddr.parseCIDR('10.0.0.0/8')) || addr.match(ipaddr.parseCIDR('192.168.1.0/24')));
  if (!inOffice) {
    context.multifactor = { provider: 'any', allowRememberBrowser: false };
  }
  callback(null, user, context);
}
