// Bench (not a test): the timeline on a huge keepalived log must cost only the --since window.
// Generates ~2.4 M syslog lines (~200 MB) spanning 30 days, then reads the last 24 h from the end.
// Run: npm run build && node bench/timeline.mjs [lines]
import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { readLogWindow } from '../dist/src/vrrp/tail.js';
import { buildTimeline } from '../dist/src/vrrp/timeline.js';

const lines = Number(process.argv[2] ?? 2_400_000);
const file = `/tmp/hagw-bench-timeline-${process.pid}.log`;
const now = Date.now();
const span = 30 * 86_400_000;
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n) => String(n).padStart(2, '0');
const stamp = (t) => {
  const d = new Date(t);
  return `${MON[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};
const msgs = [
  '(VI_1) Sending gratuitous ARP on eth0 for 10.0.0.254',
  '(VI_1) received an invalid passwd!',
  '(VI_1) Entering MASTER STATE',
  '(VI_1) Master received advert from 10.0.0.1 with higher priority 150, ours 100',
  '(VI_1) Entering BACKUP STATE',
];
try {
  const out = createWriteStream(file);
  for (let i = 0; i < lines; i++) {
    const t = now - span + Math.floor((i / lines) * span);
    const m = i % 1000 === 0 ? msgs[2 + ((i / 1000) % 3)] : msgs[i % 7 === 0 ? 1 : 0];
    if (!out.write(`${stamp(t)} gw2 Keepalived_vrrp[2203]: ${m}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const size = (await stat(file)).size;
  const t0 = performance.now();
  const rss0 = process.memoryUsage().rss;
  const res = await readLogWindow(file, { now, since: now - 86_400_000 });
  const tl = buildTimeline(res.events, { now, since: now - 86_400_000 });
  const ms = performance.now() - t0;
  console.log(
    JSON.stringify({
      lines,
      fileMB: Math.round(size / 1e6),
      readMB: Math.round(res.bytesRead / 1e6),
      events: res.events.length,
      transitions: tl.transitions.length,
      ms: Math.round(ms),
      rssDeltaMB: Math.round((process.memoryUsage().rss - rss0) / 1e6),
    }),
  );
} finally {
  await rm(file, { force: true });
}
