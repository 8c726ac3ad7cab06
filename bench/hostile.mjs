// Hostile hosts (issue 11, item 6). Two targets:
//  1. a host where every probed command hangs (each leaving a grandchild that holds the pipe) is
//     judged within the longest probe timeout + 1 s, not one timeout per probe round;
//  2. RSS stays under 300 MB on every hostile input: a 10 KB keepalived macro used 10,000 times,
//     256 KB dmesg lines, an 8 MB keepalived log of 64 KB lines, a 2 MB single-line iptables rule.
// Runs bin/hagw-doctor (npm run build first) as a separate process under /usr/bin/time; prints
// markdown; exits 1 when a target is missed. Root gives the full probe set; not required.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'hagw-doctor');
const RSS_TARGET_MB = 300;
const work = mkdtempSync(path.join(tmpdir(), 'hagw-hostile-'));
const SYS_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
let missed = false;

/** Run the doctor; wall time, max RSS (GNU time), exit status. */
function doctor(args, env = {}) {
  const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const argv = timeBin ? [timeBin, '-f', '@@%M %e', process.execPath, BIN, ...args] : [process.execPath, BIN, ...args];
  const t0 = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), {
    env: { ...process.env, PATH: SYS_PATH, NO_COLOR: '1', ...env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 300_000,
  });
  const ms = performance.now() - t0;
  const m = /@@(\d+) ([\d.]+)\s*$/.exec(r.stderr ?? '');
  return { ms, rssMb: m ? Number(m[1]) / 1024 : NaN, status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '').replace(/@@.*\s*$/, '') };
}

const rows = [];
try {
  // ---- 1. every probed command hangs
  const snap = JSON.parse(doctor(['snapshot', '--include-secrets']).stdout);
  const names = new Set(
    Object.values(snap.probes)
      .filter((p) => p.kind === 'command' && p.argv?.[0])
      .map((p) => path.basename(p.argv[0])),
  );
  for (const n of [
    'keepalived',
    'iptables-save',
    'ip6tables-save',
    'iptables-legacy-save',
    'iptables-nft-save',
    'nft',
    'conntrack',
    'ip',
    'ipvsadm',
    'ethtool',
    'journalctl',
    'dmesg',
    'tcpdump',
    'ss',
    'sysctl',
    'timeout',
  ])
    names.add(n);
  const fake = path.join(work, 'hang');
  mkdirSync(fake);
  const pids = path.join(work, 'pids');
  writeFileSync(pids, '');
  for (const n of names) {
    writeFileSync(path.join(fake, n), `#!/bin/sh\nsleep 600 &\necho $! >> ${pids}\nexec sleep 601\n`);
    chmodSync(path.join(fake, n), 0o755);
  }
  const longest = 5000; // the collection budget's floor (src/probes/collect.ts)
  const hung = doctor(['check', '--json'], { PATH: `${fake}:${SYS_PATH}` });
  let report;
  try {
    report = JSON.parse(hung.stdout);
  } catch {
    report = undefined;
  }
  // the budget is the longest first-round probe timeout: the firewall rule dumps, 10 s
  const target = 10_000 + 1000;
  const left = readFileSync(pids, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return st.slice(st.lastIndexOf(')') + 2)[0] !== 'Z';
      } catch {
        return false;
      }
    });
  const ok1 = hung.ms <= target && report !== undefined && left.length === 0;
  if (!ok1) missed = true;
  rows.push({
    input: `every probed command hangs (${names.size} binaries, each with a grandchild)`,
    time: `${(hung.ms / 1000).toFixed(1)} s (target ≤ ${(target / 1000).toFixed(0)} s: longest probe timeout + 1 s; floor ${longest / 1000} s)`,
    rss: `${hung.rssMb.toFixed(0)} MB`,
    result: `${report ? `report, status ${report.summary.status}, ${report.checks.filter((c) => c.status === 'skip' || c.status === 'error').length} checks could not judge` : `no report (exit ${hung.status})`}; ${left.length} hung processes left`,
  });
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }

  // ---- 2. hostile inputs, for RSS
  const macro = path.join(work, 'macro.conf');
  writeFileSync(
    macro,
    `$BIG=${'x'.repeat(10 * 1024)}\nvrrp_instance A {\n  interface eth0\n  virtual_router_id 9\n  priority 100\n${'  notify_master $BIG\n'.repeat(10_000)}  virtual_ipaddress {\n    10.9.9.9/24\n  }\n}\n`,
  );
  const inputs = [];
  inputs.push({ name: 'a 10 KB macro used 10,000 times (--config, live)', args: ['check', '--json', '--config', macro] });
  // the same live host, with dmesg printing 256 KB lines
  const dm = path.join(work, 'dmesg-bin');
  mkdirSync(dm);
  const longLine = path.join(work, 'long-line.txt');
  writeFileSync(
    longLine,
    Array.from({ length: 8 }, (_, i) => `[ ${i}.0] ${'a'.repeat(256 * 1024)}: failed to disable LRO! nf_conntrack: table full`).join('\n') + '\n',
  );
  writeFileSync(path.join(dm, 'dmesg'), `#!/bin/sh\ncat ${longLine}\n`);
  chmodSync(path.join(dm, 'dmesg'), 0o755);
  inputs.push({ name: 'dmesg of 256 KB lines (live)', args: ['check', '--json'], env: { PATH: `${dm}:${SYS_PATH}` } });
  // offline: a snapshot whose log, rules and config are hostile
  const hostile = structuredClone(snap);
  const logLine = (i) =>
    `2026-11-22T03:00:${String(i % 60).padStart(2, '0')}+0000 gw1 Keepalived_vrrp[4242]: (VI_1) Entering MASTER STATE ${'b'.repeat(64 * 1024)}`;
  hostile.probes['keepalived-journal'] = {
    id: 'keepalived-journal',
    kind: 'command',
    argv: ['journalctl'],
    status: 'ok',
    exitCode: 0,
    stdout: Array.from({ length: 128 }, (_, i) => logLine(i)).join('\n') + '\n',
    stderr: '',
    ms: 1,
  };
  hostile.probes['iptables-save'] = {
    id: 'iptables-save',
    kind: 'command',
    argv: ['iptables-save', '-c'],
    status: 'ok',
    exitCode: 0,
    stdout: `*nat\n:POSTROUTING ACCEPT [0:0]\n[0:0] -A POSTROUTING -m comment --comment "${'c'.repeat(2 * 1024 * 1024)}" -j MASQUERADE\nCOMMIT\n`,
    stderr: '',
    ms: 1,
  };
  hostile.probes[`kconf:${macro}`] = { id: `kconf:${macro}`, kind: 'file', path: macro, status: 'ok', stdout: readFileSync(macro, 'utf8'), stderr: '', ms: 1 };
  hostile.options = { ...hostile.options, config: macro };
  const hostileFile = path.join(work, 'hostile.json');
  writeFileSync(hostileFile, JSON.stringify(hostile));
  inputs.push({ name: 'snapshot: 8 MB log of 64 KB lines, a 2 MB iptables rule, the macro config (--from)', args: ['check', '--json', '--from', hostileFile] });
  for (const i of inputs) {
    const r = doctor(i.args, i.env ?? {});
    let ok = r.rssMb < RSS_TARGET_MB;
    let result;
    try {
      const rep = JSON.parse(r.stdout);
      result = `report, status ${rep.summary.status}, ${rep.findings.length} findings`;
    } catch {
      ok = false;
      result = `no report (exit ${r.status}): ${r.stderr.trim().split('\n').at(-1)}`;
    }
    if (!ok) missed = true;
    rows.push({ input: i.name, time: `${(r.ms / 1000).toFixed(1)} s`, rss: `${r.rssMb.toFixed(0)} MB (target < ${RSS_TARGET_MB} MB)`, result });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const cols = ['input', 'time', 'rss', 'result'];
console.log([`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${cols.map((c) => r[c]).join(' | ')} |`)].join('\n'));
console.log(`\n${missed ? 'A target was missed in this run.' : 'Every target met.'}`);
process.exitCode = missed ? 1 : 0;
