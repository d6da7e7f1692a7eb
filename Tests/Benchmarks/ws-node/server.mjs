// The overlay feed's job done by a plain Node.js `ws` broadcast server, for the fan-out benchmark
// (docs/benchmarks.md): GET /ws/captions (optional ?lang=en,es), new clients get the latest state per language,
// POST /publish takes one caption update as JSON and broadcasts it, a client that falls more than 256 updates
// behind is terminated (like the .NET feed's bounded queue), GET /healthz answers ok.
// Usage: node server.mjs [port=4471]
import http from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 4471);
const queueLimit = 256;
const latest = new Map();
const wss = new WebSocketServer({ noServer: true });

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    return;
  }
  if (req.method === 'POST' && req.url === '/publish') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let update;
      try {
        update = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400);
        res.end('body is not JSON');
        return;
      }
      publish(update);
      res.writeHead(204);
      res.end();
    });
    return;
  }
  res.writeHead(404);
  res.end();
});

function publish(update) {
  const language = String(update.language).toLowerCase();
  const data = JSON.stringify(update); // serialised once, shared by every client
  latest.set(language, data);
  for (const client of wss.clients) {
    if (client.readyState !== 1 || (client.languages.size > 0 && !client.languages.has(language))) {
      continue;
    }
    if (client.bufferedAmount > queueLimit * data.length) {
      console.error('client could not keep up; terminating it');
      client.terminate();
      continue;
    }
    client.send(data);
  }
}

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname !== '/ws/captions') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const lang = url.searchParams.get('lang') ?? '';
    ws.languages = new Set(lang.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0));
    ws.on('message', () => { /* read-only feed */ });
    ws.on('error', () => { /* the client went away */ });
    for (const [language, data] of latest) {
      if (ws.languages.size === 0 || ws.languages.has(language)) {
        ws.send(data);
      }
    }
  });
});

server.listen(port, '127.0.0.1', () => console.log(`ws-node listening on 127.0.0.1:${port}`));
