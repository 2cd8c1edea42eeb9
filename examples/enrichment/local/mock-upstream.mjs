// A stand-in for the three services the example's rules call, for trying them locally:
//   node examples/enrichment/local/mock-upstream.mjs [port]     (default 8443)
// HTTPS with a certificate for their host names, signed by mock-ca.pem (the CA's key was
// thrown away after signing). It prints each request it gets.
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';

const here = new URL('.', import.meta.url);
const port = Number(process.argv[2] || 8443);
const json = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const server = createServer({
  key: readFileSync(new URL('mock-upstream-key.pem', here)),
  cert: readFileSync(new URL('mock-upstream.pem', here)),
}, (req, res) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    console.log(`${req.method} https://${req.headers.host}${req.url} ${body}`);
    const url = new URL(req.url, 'https://mock');
    if (req.method === 'POST' && url.pathname === '/oauth/token') {
      return json(res, 200, { access_token: 'mock-token', token_type: 'Bearer', expires_in: 3600 });
    }
    if (req.method === 'GET' && url.pathname === '/v2/people/find') {
      if (req.headers.authorization !== 'Bearer mock-token') return json(res, 401, { error: 'unauthorized' });
      const email = url.searchParams.get('email') || '';
      if (!email.endsWith('@example.com')) return json(res, 404, { error: 'unknown person' });
      return json(res, 200, { employment: { name: 'Example Corp', seniority: 'manager' } });
    }
    if (req.method === 'POST' && url.pathname === '/v1/score') {
      const { email = '' } = JSON.parse(body || '{}');
      return json(res, 200, { score: email.startsWith('fraud') ? 0.95 : 0.05 });
    }
    if (req.method === 'POST' && url.pathname.startsWith('/services/')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('ok');
    }
    json(res, 404, { error: 'no such endpoint' });
  });
});
server.listen(port, '127.0.0.1', () => console.log(`mock upstream on https://127.0.0.1:${server.address().port}`));
