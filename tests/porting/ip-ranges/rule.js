/**
 * Payroll only from the office networks; the company's other apps from anywhere.
 */
function payrollFromTheOffice(user, context, callback) {
  if (context.clientName !== 'Payroll') return callback(null, user, context);
  const ipaddr = require('ipaddr.js@1.9.0');
  const office = ['10.0.0.0/8', '192.168.1.0/24', '2001:db8:abcd::/48'];
  const ip = context.request && context.request.ip;
  if (typeof ip !== 'string') {
    return callback(new UnauthorizedError('Payroll is only available from the office network.'));
  }
  // ipaddr.js also reads "10.1" and "010.0.0.1" (octal: 8.0.0.1) as IPv4 addresses, and
  // takes "fe80::1%eth0" with its zone. A login's address is never written so: refuse such
  // a string rather than guess what it means.
  if (!ipaddr.IPv4.isValidFourPartDecimal(ip) && !(ipaddr.IPv6.isValid(ip) && ip.indexOf('%') === -1)) {
    throw new Error('not an IP address: ' + ip);
  }
  // process() reads an IPv4-mapped IPv6 address (::ffff:10.1.2.3) as the IPv4 one.
  const address = ipaddr.process(ip);
  const inside = office.some(function (cidr) {
    const network = ipaddr.parseCIDR(cidr);
    return address.kind() === network[0].kind() && address.match(network);
  });
  if (!inside) {
    return callback(new UnauthorizedError('Payroll is only available from the office network.'));
  }
  callback(null, user, context);
}
