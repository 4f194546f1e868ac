// What one session.logTurn() costs the agent, in process: median and p99 wall time of a call, with the server
// up, slow (every answer 200 ms late) and down (connection refused). The server is a tiny node:http one that
// answers turns as Provenant does (201), so the numbers are the SDK's alone.
// Run after `npm run build`: node scripts/log-turn-cost.mjs [calls per case, default 20000]
import { createServer } from 'node:http';
import { setImmediate as tick } from 'node:timers/promises';

import { ProvenantClient } from '../dist/index.js';

const CALLS = Number(process.argv[2] ?? 20_000);
const KEY = 'pk_live_0123456789abcdef0123456789abcdef';

async function ingestServer(delayMs) {
  let stored = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || 'null');
      const answer = req.url === '/api/sessions' ? { id: 'session-1' } : body;
      if (Array.isArray(body)) stored += body.length;
      setTimeout(() => {
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(answer));
      }, delayMs);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, stored: () => stored, close: () => server.close() };
}

async function measure(baseUrl) {
  // Room for every call, so "down" measures queueing rather than the cheaper drop.
  const client = new ProvenantClient({ baseUrl, apiKey: KEY, maxQueuedTurns: CALLS });
  const session = client.session('agent-1');
  const samples = new Float64Array(CALLS);
  for (let i = 0; i < CALLS; i++) {
    const turn = { role: 'ASSISTANT', content: `Answer number ${i}: it ships today.`, latencyMs: 840, outputTokens: 9 };
    const started = process.hrtime.bigint();
    session.logTurn(turn);
    samples[i] = Number(process.hrtime.bigint() - started) / 1_000;
    // An agent does other work between turns; here the event loop runs (timers, the sender) every 50 turns.
    if (i % 50 === 49) await tick();
  }
  const delivered = await client.shutdown({ timeout: 2_000 });
  samples.sort();
  const at = (q) => samples[Math.min(CALLS - 1, Math.floor(q * CALLS))];
  return { median: at(0.5), p99: at(0.99), max: samples[CALLS - 1], delivered, dropped: client.droppedTurns };
}

const rows = [];
for (const [name, delay] of [['up', 0], ['slow (200 ms)', 200], ['down', undefined]]) {
  const server = delay === undefined ? undefined : await ingestServer(delay);
  const result = await measure(server?.url ?? 'http://127.0.0.1:9');
  rows.push({ server: name, ...result, stored: server?.stored() ?? 0 });
  server?.close();
}
console.log(`node ${process.version}, ${CALLS} calls per case; microseconds per logTurn call`);
console.table(rows.map((r) => ({ server: r.server, 'median µs': r.median.toFixed(2), 'p99 µs': r.p99.toFixed(2), 'max µs': r.max.toFixed(0), stored: r.stored })));
