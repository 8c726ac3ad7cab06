// Installing a generated pair member on this host as one change-engine plan: the files in the
// places INSTALL.md names, then the runtime steps. Pure: the engine backs up and applies it.
import type { FixPlan, FixStep } from '../../types.js';
import type { GeneratedFile } from '../services.js';
import { SYSCTL_DROP_IN } from '../../kernel/sysctl.js';

export const INSTALL_TARGETS: Array<{ from: RegExp; to: (p: string) => string; mode?: number }> = [
  { from: /^keepalived\.conf$/, to: () => '/etc/keepalived/keepalived.conf', mode: 0o644 },
  { from: /^scripts\/(.+)$/, to: (p) => `/etc/keepalived/scripts/${p.replace(/^scripts\//, '')}`, mode: 0o755 },
  { from: /^sysctl\.conf$/, to: () => SYSCTL_DROP_IN, mode: 0o644 },
  { from: /^rules\.v4$/, to: () => '/etc/keepalived/hagw-doctor.rules.v4', mode: 0o644 },
];

/** How keepalived is (re)started here (src/change/service.ts detects it); pure data for the plan. */
export type RestartHow = { kind: 'systemd' | 'openrc' | 'sysvinit' | 'signal'; argv: string[]; how: string } | { kind: 'none'; how: string };

const DEFAULT_RESTART: RestartHow = { kind: 'systemd', argv: ['systemctl', 'restart', 'keepalived'], how: 'systemd: systemctl restart keepalived' };

/** The static rules of a generated rules.v4, as rule edits by content (each undone by its own -D). */
export function rulesFromRestoreFile(content: string): Array<{ table: string; chain: string; op: 'insert' | 'append'; spec: string[] }> {
  const out: Array<{ table: string; chain: string; op: 'insert' | 'append'; spec: string[] }> = [];
  let table = '';
  for (const raw of content.split('\n')) {
    const l = raw.trim();
    if (l.startsWith('*')) table = l.slice(1);
    const m = /^-(A|I) (\S+) (.+)$/.exec(l);
    if (m && table) out.push({ table, chain: m[2]!, op: m[1] === 'I' ? 'insert' : 'append', spec: m[3]!.split(/\s+/) });
  }
  return out;
}

/** `key = value` lines of a sysctl file. */
export function sysctlSettings(content: string): Array<[string, string]> {
  return content
    .split('\n')
    .map((l) => /^\s*([\w.]+)\s*=\s*(\S.*?)\s*$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => [m[1]!, m[2]!]);
}

export function installPlanFor(files: readonly GeneratedFile[], restart: RestartHow = DEFAULT_RESTART): FixPlan {
  const steps: FixStep[] = [];
  const written: string[] = [];
  const tables = new Set<string>();
  const keys: string[] = [];
  const runtime: FixStep[] = [];
  for (const f of files) {
    const t = INSTALL_TARGETS.find((x) => x.from.test(f.path));
    if (!t) continue; // INSTALL.md stays in the review
    const to = f.installAs ?? t.to(f.path);
    written.push(to);
    steps.push({ write: { path: to, content: f.content, mode: f.mode ?? t.mode ?? 0o644 }, why: `install ${f.path}` });
    if (to === SYSCTL_DROP_IN) {
      for (const [k, v] of sysctlSettings(f.content)) {
        keys.push(k);
        runtime.push({ argv: ['sysctl', '-w', `${k}=${v}`], why: 'apply the setting now (undone to the value it had)' });
      }
    }
    if (to === '/etc/keepalived/hagw-doctor.rules.v4') {
      for (const r of rulesFromRestoreFile(f.content)) {
        tables.add(r.table);
        runtime.push({
          argv: ['iptables', '-w', '-t', r.table, r.op === 'insert' ? '-I' : '-A', r.chain, ...(r.op === 'insert' ? ['1'] : []), ...r.spec],
          undo: [['iptables', '-w', '-t', r.table, '-D', r.chain, ...r.spec]],
          rule: { bin: 'iptables', table: r.table, chain: r.chain, op: r.op, spec: r.spec },
          why: 'a static rule of rules.v4 (skipped when it is there already)',
        });
      }
    }
  }
  steps.push(...runtime);
  steps.push({
    argv: ['keepalived', '-t', '-f', '/etc/keepalived/keepalived.conf'],
    undo: [],
    why: 'refuse to go on with a config keepalived rejects (changes nothing)',
  });
  if (restart.kind !== 'none') {
    // undone last (steps are undone in reverse): keepalived then runs the restored files again
    steps.unshift({
      argv: ['true'],
      undo: [restart.argv],
      why: `nothing now; if this install is undone, keepalived is restarted last, with the restored files (${restart.how})`,
    });
    steps.push({ argv: restart.argv, undo: [], why: `start VRRP with the new config: ${restart.how}` });
  }
  return {
    summary: `install the generated pair member (${written.length} files)${restart.kind === 'none' ? '; keepalived is not restarted' : `, then ${restart.how}`}`,
    risk: 'disruptive',
    steps,
    touches: { files: written, iptables: [...tables], sysctl: keys },
    persistence: {
      persistent: true,
      how: `files under /etc/keepalived and /etc/sysctl.d; the rules file is loaded by the notify scripts and this install${restart.kind === 'none' ? `. Not restarted: ${restart.how}` : ''}`,
    },
    verifies: restart.kind === 'none' ? ['keepalived-config-invalid'] : ['keepalived-config-invalid', 'keepalived-not-running'],
  };
}
