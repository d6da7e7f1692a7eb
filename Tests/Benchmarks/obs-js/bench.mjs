// SetInputSettings round trips from obs-websocket-js against a running OBS, sequential, one request in flight.
// Usage: node bench.mjs <url> <password> <source> <warmup>
// Stays connected (warm, like the .NET side) and measures one round per line read from stdin (the line is the request
// count); prints one JSON line per round with the round trips in ms. Ends at end of input.
import { OBSWebSocket } from 'obs-websocket-js';
import { createInterface } from 'node:readline';

const [url, password, source, warmup] = process.argv.slice(2);
const obs = new OBSWebSocket();
await obs.connect(url, password || undefined, { rpcVersion: 1 });
const client = 'obs-websocket-js 5.0.8 (node ' + process.version + ')';
for await (const line of createInterface({ input: process.stdin })) {
  const count = Number(line);
  const samples = [];
  for (let i = 0; i < Number(warmup) + count; i++) {
    const start = process.hrtime.bigint();
    await obs.call('SetInputSettings', { inputName: source, inputSettings: { text: `js ${i}` }, overlay: true });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (i >= Number(warmup)) samples.push(ms);
  }
  console.log(JSON.stringify({ client, samples }));
}
await obs.disconnect();
