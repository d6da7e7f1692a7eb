// SetInputSettings round trips from obs-websocket-js against a running OBS, sequential, one request in flight.
// Usage: node bench.mjs <url> <password> <source> <count> <warmup>; prints one JSON line with the round trips in ms.
import { OBSWebSocket } from 'obs-websocket-js';

const [url, password, source, count, warmup] = process.argv.slice(2);
const obs = new OBSWebSocket();
await obs.connect(url, password || undefined, { rpcVersion: 1 });
const samples = [];
const total = Number(warmup) + Number(count);
for (let i = 0; i < total; i++) {
  const start = process.hrtime.bigint();
  await obs.call('SetInputSettings', { inputName: source, inputSettings: { text: `js ${i}` }, overlay: true });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (i >= Number(warmup)) samples.push(ms);
}
await obs.disconnect();
console.log(JSON.stringify({ client: 'obs-websocket-js 5.0.8 (node ' + process.version + ')', samples }));
