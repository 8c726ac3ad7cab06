// `hagw-doctor watch --format jsonl` on the lab's backup while the master's keepalived is killed:
// the LAN instance goes to MASTER and the VIP arrives, each reported within 3 s of the kill. The
// test waits for the events (never a fixed sleep), then compares the events' own times with the
// moment of the kill.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { ADDR, createLab, REPO_ROOT, requireRoot, waitFor, type Lab } from './harness.js';

requireRoot();

interface Ev {
  time: string;
  node: string;
  kind: string;
  [k: string]: unknown;
}

class Watch {
  readonly events: Ev[] = [];
  readonly bad: string[] = [];
  stderr = '';
  readonly child: ChildProcess;
  constructor(lab: Lab, node: 'gw1' | 'gw2', work: string, args: string[] = []) {
    this.child = spawn(
      'ip',
      [
        'netns',
        'exec',
        lab.nodes[node],
        process.execPath,
        path.join(REPO_ROOT, 'bin', 'hagw-doctor'),
        'watch',
        '--format',
        'jsonl',
        '--check-every',
        '0',
        ...args,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
          LC_ALL: 'C',
          HAGW_DOCTOR_STATE_DIR: path.join(work, node, 'state'),
          HAGW_DOCTOR_LOCK: path.join(work, node, 'lock'),
          HAGW_DOCTOR_LOG: path.join(work, node, 'log'),
        },
      },
    );
    let buf = '';
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.events.push(JSON.parse(line) as Ev);
        } catch {
          this.bad.push(line);
        }
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
  }
  find(pred: (e: Ev) => boolean): Ev | undefined {
    return this.events.find(pred);
  }
  wait(what: string, pred: (e: Ev) => boolean, timeoutMs = 30_000): Promise<Ev> {
    return waitFor(
      () => {
        if (this.child.exitCode !== null) throw new Error(`watch exited (${this.child.exitCode}): ${this.stderr}`);
        return this.find(pred);
      },
      { what: `${what}; events so far:\n${this.events.map((e) => JSON.stringify(e)).join('\n')}`, timeoutMs, intervalMs: 20 },
    );
  }
  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$/;

describe('watch on the backup during a failover', () => {
  let lab: Lab;
  let work: string;
  const watches: Watch[] = [];
  beforeAll(async () => {
    lab = await createLab();
    work = mkdtempSync(path.join(lab.runDir, 'watch-'));
  });
  afterAll(async () => {
    for (const w of watches) w.stop();
    await lab?.destroy();
  });

  it("reports VI_LAN BACKUP -> MASTER and the LAN VIP added within 3 s of the master's keepalived being killed", async () => {
    const w = new Watch(lab, 'gw2', work);
    watches.push(w);
    // where watch starts: the backup, no VIP held, following keepalived's log
    const initial = await w.wait('the initial state of VI_LAN', (e) => e.kind === 'state' && e.instance === 'VI_LAN' && e.initial === true);
    expect(initial.to).toBe('BACKUP');
    const started = await w.wait('watch to start following', (e) => e.kind === 'watch' && /watching keepalived's log/.test(String(e.message)));
    expect(String(started.message)).toContain(lab.keepalivedLogPath('gw2'));
    expect(w.find((e) => e.kind === 'vip')).toBeUndefined();

    const pid = lab.keepalivedPid('gw1');
    expect(pid).toBeDefined();
    const killedAt = Date.now();
    process.kill(pid!, 'SIGTERM');

    const state = await w.wait('VI_LAN to go to MASTER', (e) => e.kind === 'state' && e.instance === 'VI_LAN' && e.to === 'MASTER');
    const vip = await w.wait('the LAN VIP to arrive', (e) => e.kind === 'vip' && e.change === 'added' && String(e.address).startsWith(`${ADDR.lanVip}/`));

    for (const e of [state, vip]) {
      expect(e.time).toMatch(ISO_WITH_ZONE);
      const at = Date.parse(e.time);
      expect(at).toBeGreaterThanOrEqual(killedAt - 5);
      expect(at - killedAt, JSON.stringify(e)).toBeLessThan(3000);
    }
    expect(state.from).toBe('BACKUP');
    expect(state.node).toBe(initial.node);
    // the cause comes from the log lines before the transition: the master stopping sends priority 0
    const log = (await lab.keepalivedLog('gw2')).split('\n').slice(-25).join('\n');
    expect(String(state.cause), `${log}\n--- events:\n${w.events.map((e) => JSON.stringify(e)).join('\n')}`).toMatch(/priority 0/);
    expect(vip.interface).toBe('eth0');
    expect(vip.instance).toBe('VI_LAN');
    expect(w.bad).toEqual([]);
  });
});
