// Bounded on any host: a command whose grandchild keeps the pipe open, a FIFO, a device, /proc/kmsg
// and kernel-interface files named by host text never hang a probe or get opened.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MAX_DIR_ENTRIES, runProbe } from '../../../src/probes/run.js';
import { parseKeepalivedConfig } from '../../../src/keepalived/parse.js';
import { MAX_MACRO_EXPANSION } from '../../../src/keepalived/syntax.js';
import { lroDisableFailures } from '../../../src/nic/ethtool.js';
import { recordId } from '../../../src/probes/ids.js';

/** Running (a killed process may linger as a zombie until its new parent reaps it: that is dead). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('commands', () => {
  it('a timed-out command whose grandchild holds the pipe: the probe ends at its timeout and the whole group is killed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hagw-hang-'));
    try {
      const pidFile = path.join(dir, 'grandchild.pid');
      // the direct child exits at once; its background grandchild keeps stdout open for 60 s
      const argv = ['sh', '-c', `sleep 60 & echo $! > ${pidFile}; echo started`];
      const t0 = performance.now();
      const r = await runProbe({ id: recordId('x'), kind: 'command', argv, timeoutMs: 400 }, true);
      const ms = performance.now() - t0;
      expect(r.status).toBe('timeout');
      expect(r.reason).toContain('process group was killed');
      expect(ms).toBeLessThan(400 + 1000);
      const gpid = Number(readFileSync(pidFile, 'utf8'));
      expect(gpid).toBeGreaterThan(0);
      expect(alive(gpid)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a hung command with a grandchild that escaped the group (setsid) still ends the probe in time', async () => {
    const r = await runProbe({ id: recordId('x'), kind: 'command', argv: ['sh', '-c', 'setsid sleep 3 & sleep 60'], timeoutMs: 300 }, true);
    expect(r.status).toBe('timeout');
    expect(r.ms).toBeLessThan(300 + 1000);
  });

  it('a finished command leaves no background process behind', async () => {
    const r = await runProbe({ id: recordId('x'), kind: 'command', argv: ['sh', '-c', 'sleep 30 >/dev/null 2>&1 & echo $!'] }, true);
    expect(r.status).toBe('ok');
    const pid = Number(r.stdout.trim());
    await new Promise((res) => setTimeout(res, 50));
    expect(alive(pid)).toBe(false);
  });

  it('caps stderr as well as stdout', async () => {
    const r = await runProbe({ id: recordId('x'), kind: 'command', argv: ['sh', '-c', 'head -c 300000 /dev/zero | tr "\\0" x >&2'], maxBytes: 1000 }, true);
    expect(r.stderr.length).toBe(1000);
    expect(r.truncated).toBe(true);
  });
});

describe('files', () => {
  it('refuses a FIFO without opening it (opening would block), with the reason', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hagw-fifo-'));
    try {
      const fifo = path.join(dir, 'include.conf');
      execFileSync('mkfifo', [fifo]);
      const r = await runProbe({ id: recordId('kconf:x'), kind: 'file', path: fifo, hostPath: true }, true);
      expect(r.status).toBe('error');
      expect(r.reason).toBe(`${fifo} is a FIFO: refused (only regular files are read)`);
      // through a symlink too
      const link = path.join(dir, 'link.conf');
      execFileSync('ln', ['-s', fifo, link]);
      expect((await runProbe({ id: recordId('kconf:y'), kind: 'file', path: link }, true)).reason).toContain('is a FIFO');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses devices, /proc/kmsg, and kernel-interface files named by host text', async () => {
    expect((await runProbe({ id: recordId('a'), kind: 'file', path: '/dev/null', hostPath: true }, true)).reason).toContain('is a character device');
    expect((await runProbe({ id: recordId('b'), kind: 'file', path: '/proc/kmsg' }, true)).reason).toContain('kernel log device: refused');
    const proc = await runProbe({ id: recordId('c'), kind: 'file', path: '/proc/self/status', hostPath: true }, true);
    expect(proc.reason).toContain('is on procfs, a kernel interface: refused');
    // the doctor's own /proc reads (sysctls) still work
    expect((await runProbe({ id: recordId('d'), kind: 'file', path: '/proc/sys/kernel/osrelease' }, true)).status).toBe('ok');
  });

  it('caps a directory listing', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hagw-dir-'));
    try {
      await Promise.all(Array.from({ length: MAX_DIR_ENTRIES + 5 }, (_, i) => writeFile(path.join(dir, `f${i}`), '')));
      const r = await runProbe({ id: recordId('dir:x'), kind: 'dir', path: dir }, true);
      expect(JSON.parse(r.stdout)).toHaveLength(MAX_DIR_ENTRIES);
      expect(r.truncated).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a file read has a timeout like every probe', async () => {
    // an internal probe stands in for a read that never returns (a hung mount)
    const r = await runProbe({ id: recordId('i'), kind: 'internal', run: () => new Promise(() => undefined), timeoutMs: 100 }, true);
    expect(r.status).toBe('timeout');
  });
});

describe('parsers stay linear on hostile input', () => {
  it('a 10 KB macro used 10,000 times: expansion stops at the cap, with a diagnostic', () => {
    const text = `$BIG=${'x'.repeat(10 * 1024)}\n` + 'vrrp_instance A {\n' + '  interface $BIG\n'.repeat(10_000) + '}\n';
    const r = parseKeepalivedConfig('/k.conf', { readFile: () => text, listDir: () => [] });
    expect(r.diagnostics.some((d) => d.message.includes('macro expansion grows the configuration by more than 4 MB'))).toBe(true);
    expect(MAX_MACRO_EXPANSION).toBe(4 * 1024 * 1024);
  });

  it('a 256 KB dmesg line of word characters is read in linear time', () => {
    const line = 'a'.repeat(256 * 1024);
    expect(lroDisableFailures(`${line}\n[ 1.0] netdevice: eth0: failed to disable LRO!\n${line}: failed to disable LRO!`)).toEqual([
      { ifname: 'eth0', line: '[ 1.0] netdevice: eth0: failed to disable LRO!' },
      { ifname: 'a'.repeat(64), line: `${'a'.repeat(256 * 1024)}: failed to disable LRO!`.slice(0, 512) },
    ]);
  });
});

describe('keepalived -t on a configuration with a refused include', () => {
  it('is not run (a FIFO would hang it, /proc/kmsg would consume the kernel log), and says why', async () => {
    const { keepalivedProvider } = await import('../../../src/probes/keepalived.js');
    const conf = '/etc/keepalived/keepalived.conf';
    const base = {
      id: `kconf:${conf}`,
      kind: 'file' as const,
      path: conf,
      status: 'ok' as const,
      stdout: 'include /etc/keepalived/fifo.conf\n',
      stderr: '',
      ms: 0,
    };
    const fifo = {
      id: 'kconf:/etc/keepalived/fifo.conf',
      kind: 'file' as const,
      path: '/etc/keepalived/fifo.conf',
      status: 'error' as const,
      stdout: '',
      stderr: '',
      ms: 0,
      reason: '/etc/keepalived/fifo.conf is a FIFO: refused (only regular files are read)',
    };
    const ctx = (records: Record<string, typeof base | typeof fifo>) => ({ round: 2, records, options: { config: conf }, isRoot: true });
    // the include not read yet: keepalived -t waits for it
    expect(keepalivedProvider.probes(ctx({ [base.id]: base })).find((s) => s.id === 'keepalived-configtest')).toBeUndefined();
    const spec = keepalivedProvider.probes(ctx({ [base.id]: base, [fifo.id]: fifo })).find((s) => s.id === 'keepalived-configtest')!;
    expect(spec.kind).toBe('internal');
    const r = await runProbe(spec, true);
    expect(r.status).toBe('error');
    expect(r.reason).toBe(
      'not run: the configuration includes /etc/keepalived/fifo.conf, which the doctor refused to read (/etc/keepalived/fifo.conf is a FIFO: refused (only regular files are read))',
    );
    // every file read and none refused: keepalived -t runs
    const ok = { ...fifo, status: 'ok' as const, reason: undefined, stdout: '' };
    expect(keepalivedProvider.probes(ctx({ [base.id]: base, [fifo.id]: ok as never })).find((s) => s.id === 'keepalived-configtest')).toMatchObject({
      kind: 'command',
      argv: ['keepalived', '-t', '-f', conf],
    });
  });
});

describe('an interrupted doctor', () => {
  it("kills the process groups of the probes still running (they do not get the terminal's Ctrl+C)", async () => {
    const { spawn } = await import('node:child_process');
    const dir = await mkdtemp(path.join(tmpdir(), 'hagw-int-'));
    try {
      const pidFile = path.join(dir, 'pid');
      const script = path.join(dir, 'run.mts');
      await writeFile(
        script,
        `import { runProbe } from ${JSON.stringify(path.resolve('src/probes/run.ts'))};\nvoid runProbe({ id: 'x', kind: 'command', argv: ['sh', '-c', 'echo $$ > ${pidFile}; exec sleep 60'], timeoutMs: 60000 }, true);\n`,
      );
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'ignore' });
      const deadline = Date.now() + 15_000;
      while (!existsSync(pidFile) || !readFileSync(pidFile, 'utf8').trim()) {
        if (Date.now() > deadline) throw new Error('the probe never started');
        await new Promise((r) => setTimeout(r, 20));
      }
      const probePid = Number(readFileSync(pidFile, 'utf8'));
      expect(alive(probePid)).toBe(true);
      const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, sig) => r(sig)));
      child.kill('SIGINT');
      expect(await exited).toBe('SIGINT');
      for (let i = 0; i < 100 && alive(probePid); i++) await new Promise((r) => setTimeout(r, 20));
      expect(alive(probePid)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
