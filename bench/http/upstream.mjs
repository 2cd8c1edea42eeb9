// The upstream of bench/http/run.sh: answers every request after a fixed delay, like a
// scoring API that takes 100 ms. Prints `listening on http://HOST:PORT` first.
//   node bench/http/upstream.mjs [delay_ms]
import { createServer } from 'node:http';

const delay = Number(process.argv[2] || 100);
let served = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    setTimeout(() => {
      served++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ score: 0.1, served }));
    }, delay);
  });
});
server.maxConnections = 100000;
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
