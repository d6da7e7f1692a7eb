// The viewer relay's job (docs/relay.md) done by Node.js with `ws` and the official `nats` client, for the load
// benchmark (Tests/Benchmarks/relay-load.sh, docs/benchmarks.md "Viewer relay"). What it does, the same as the .NET
// relay for what the benchmark exercises:
// - NATS: ONE core subscription to `$KV.captions.STREAM.*` (not a JetStream key-value watch: the benchmark publishes
//   only after the viewers are connected, so the bucket's stored state is not needed; a core subscription receives
//   the same messages the bucket stores, at least as early). It needs a user allowed to subscribe to `$KV.>` (the
//   script uses admin; the relay user of docs/relay.md may not).
// - Coalescing, as the .NET relay's TentativeCoalescer: per language, a `tentative` within 250 ms of the last update
//   forwarded is held, a newer one replaces it, one timer per language sends the held one when the 250 ms are over;
//   `final`, `cleared` and `closed` go out at once and drop the held one.
// - Fan-out with ws's idiomatic broadcast: for each forwarded update, `client.send(text)` for every viewer of that
//   stream and language (ws frames each send itself: a header and a write per client; the payload Buffer is shared).
//   A viewer more than 16 updates behind (bufferedAmount > 16 x message size) is terminated, like the .NET feed's
//   bounded queue of 16. A new viewer gets the last update forwarded first (a held one follows in order).
// - GET /ws/watch?stream=NAME&lang=xx (the feed), GET /healthz (200 while connected to NATS). Nothing else.
// Usage: node relay.mjs --nats nats://user:pass@127.0.0.1:4222 --http-port 4601 --stream bench
import http from 'node:http';
import { connect } from 'nats';
import { WebSocketServer } from 'ws';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const natsUrl = new URL(args.nats ?? 'nats://127.0.0.1:4222');
const port = Number(args['http-port'] ?? 4601);
const stream = (args.stream ?? 'bench').toLowerCase();
const queueLimit = 16;
const coalesceMs = 250;

/** Per language: viewers, the last update forwarded (sent first to a new viewer), and the coalescer's state. */
const languages = new Map();
function language(lang) {
  let l = languages.get(lang);
  if (!l) {
    l = { viewers: new Set(), latest: null, lastForwardAt: -Infinity, held: null, timer: null };
    languages.set(lang, l);
  }
  return l;
}

function forward(l, data) {
  l.lastForwardAt = performance.now();
  l.latest = data;
  for (const client of l.viewers) {
    if (client.bufferedAmount > queueLimit * data.length) {
      client.terminate();
      continue;
    }
    client.send(data, { binary: false });
  }
}

function onUpdate(lang, kind, data) {
  const l = language(lang);
  if (kind !== 'tentative') {
    if (l.timer) { clearTimeout(l.timer); l.timer = null; }
    l.held = null;
    forward(l, data);
    return;
  }
  const since = performance.now() - l.lastForwardAt;
  if (since >= coalesceMs && !l.timer) {
    forward(l, data);
    return;
  }
  l.held = data;
  if (!l.timer) {
    l.timer = setTimeout(() => {
      l.timer = null;
      const held = l.held;
      l.held = null;
      if (held) forward(l, held);
    }, Math.max(0, coalesceMs - since));
  }
}

const nc = await connect({
  servers: `${natsUrl.hostname}:${natsUrl.port || 4222}`,
  user: decodeURIComponent(natsUrl.username) || undefined,
  pass: decodeURIComponent(natsUrl.password) || undefined,
  maxReconnectAttempts: -1,
});
const prefix = `$KV.captions.${stream}.`;
nc.subscribe(`${prefix}*`, {
  callback: (err, msg) => {
    if (err) { console.error(`subscription: ${err.message}`); return; }
    const lang = msg.subject.slice(prefix.length);
    const kind = msg.headers?.get('Caption-Kind') || 'tentative';
    onUpdate(lang, kind, Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength));
  },
});

const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    const ok = !nc.isClosed();
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(ok ? 'ok' : 'NATS connection closed');
    return;
  }
  res.writeHead(404);
  res.end();
});

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://localhost');
  const lang = (url.searchParams.get('lang') ?? '').toLowerCase();
  if (url.pathname !== '/ws/watch' || (url.searchParams.get('stream') ?? '').toLowerCase() !== stream || !/^[a-z0-9-]{1,26}$/.test(lang)) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const l = language(lang);
    l.viewers.add(ws);
    ws.on('message', () => { /* viewers send nothing; dropped */ });
    ws.on('error', () => { /* the viewer went away */ });
    ws.on('close', () => l.viewers.delete(ws));
    if (l.latest) ws.send(l.latest, { binary: false });
  });
});

server.listen(port, '127.0.0.1', () => console.log(`relay-node listening on 127.0.0.1:${port}, stream ${stream}`));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, async () => { server.close(); await nc.close(); process.exit(0); });
}
