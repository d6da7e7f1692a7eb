// One start of a CaptionSidecar build (scripts/startup-bench.sh runs it): spawns the executable with the test pattern
// on a free port, polls GET /overlay until 200 (process start -> overlay served), connects to /ws/captions?lang=en and
// records, for each caption update, receipt time minus the update's own timestamp (made by the caption tracker, same
// machine clock): the latency through the outputs, the overlay feed and its WebSocket. Prints one JSON line.
// Usage: node --experimental-websocket scripts/startup-probe.mjs PORT UPDATES DATA_DIR COMMAND [ARGS...]
// (COMMAND ARGS start the sidecar, e.g. the executable, or wine and the .exe; the probe adds the test-pattern engine,
// no OBS, the port and the data folder). PROBE_STDERR=1 prints the sidecar's stderr too.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const [port, wanted, dataDir, command, ...commandArgs] = process.argv.slice(2);
const updates = Number(wanted);
const base = `http://127.0.0.1:${port}`;
const t0 = performance.now();
const args = [...commandArgs, '--engine', 'test-pattern', '--no-obs', '--http-port', port, '--data-dir', dataDir];
const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OPENAI_API_KEY: '' } });
let stderr = '';
child.stderr.on('data', d => { stderr += d; });
let exited = null;
child.on('exit', code => { exited = code; });

function fail(why) {
  process.stderr.write(`startup-probe: ${why}\n${stderr}\n`);
  child.kill('SIGINT');
  process.exit(1);
}

const deadline = t0 + 120000;
let overlayMs = null;
while (overlayMs === null) {
  if (exited !== null) fail(`exited ${exited} before the overlay was served`);
  if (performance.now() > deadline) fail('overlay not served within 120 s');
  try {
    const r = await fetch(`${base}/overlay`);
    await r.arrayBuffer();
    if (r.status === 200) overlayMs = performance.now() - t0;
  } catch { /* not listening yet */ }
  if (overlayMs === null) await new Promise(r => setTimeout(r, 5));
}

// An ISO time with up to 7 fraction digits (.NET's "O" format) in milliseconds since 1970, sub-millisecond kept.
function epochMs(iso) {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(iso);
  const fraction = m[2] ?? '0';
  return Date.parse(m[1] + m[3]) + Number(`0.${fraction}`) * 1000;
}

const latencies = [];
const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/captions?lang=en`);
await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no captions within 120 s')), 120000);
  ws.onmessage = ev => {
    const now = performance.timeOrigin + performance.now();
    const msg = JSON.parse(ev.data);
    if (msg.language !== 'en' || msg.timestamp === undefined || msg.cleared) return;
    if (latencies.length === 0 && msg.sequence !== 1) fail(`connected late: first update seen is number ${msg.sequence}`);
    latencies.push(now - epochMs(msg.timestamp));
    if (latencies.length >= updates) { clearTimeout(timer); resolve(); }
  };
  ws.onerror = e => reject(new Error(`websocket: ${e.message ?? e}`));
}).catch(e => fail(e.message));
ws.close();
child.kill('SIGINT');
await new Promise(r => (exited !== null ? r() : child.on('exit', r)));
if (process.env.PROBE_STDERR) process.stderr.write(stderr);
console.log(JSON.stringify({ overlayMs, latencies }));
