// Installing a generated pair member on this host as one change-engine plan: the files in the
// places INSTALL.md names, then the runtime steps. Pure: the engine backs up and applies it.
import type { FixPlan, FixStep } from '../../types.js';
import type { GeneratedFile } from '../services.js';

export const INSTALL_TARGETS: Array<{ from: RegExp; to: (p: string) => string; mode?: number }> = [
  { from: /^keepalived\.conf$/, to: () => '/etc/keepalived/keepalived.conf', mode: 0o644 },
  { from: /^scripts\/(.+)$/, to: (p) => `/etc/keepalived/scripts/${p.replace(/^scripts\//, '')}`, mode: 0o755 },
  { from: /^sysctl\.conf$/, to: () => '/etc/sysctl.d/90-hagw-doctor.conf', mode: 0o644 },
  { from: /^rules\.v4$/, to: () => '/etc/keepalived/hagw-doctor.rules.v4', mode: 0o644 },
];

export function installPlanFor(files: readonly GeneratedFile[]): FixPlan {
  const steps: FixStep[] = [];
  const written: string[] = [];
  for (const f of files) {
    const t = INSTALL_TARGETS.find((x) => x.from.test(f.path));
    if (!t) continue; // INSTALL.md stays in the review
    const to = f.installAs ?? t.to(f.path);
    written.push(to);
    steps.push({ write: { path: to, content: f.content, mode: f.mode ?? t.mode ?? 0o644 }, why: `install ${f.path}` });
  }
  if (written.includes('/etc/sysctl.d/90-hagw-doctor.conf')) {
    steps.push({ argv: ['sysctl', '-p', '/etc/sysctl.d/90-hagw-doctor.conf'], why: 'apply the sysctl settings now' });
  }
  if (written.includes('/etc/keepalived/hagw-doctor.rules.v4')) {
    steps.push({ argv: ['iptables-restore', '--noflush', '/etc/keepalived/hagw-doctor.rules.v4'], why: 'load the static rules (VRRP accept, NOTRACK)' });
  }
  steps.push({ argv: ['keepalived', '-t', '-f', '/etc/keepalived/keepalived.conf'], why: 'refuse to go on with a config keepalived rejects' });
  steps.push({ argv: ['systemctl', 'restart', 'keepalived'], why: 'start VRRP with the new config' });
  return {
    summary: `install the generated pair member (${written.length} files) and restart keepalived`,
    risk: 'disruptive',
    steps,
    touches: { files: written, iptables: ['filter', 'raw'], sysctl: ['net.ipv4.ip_forward'] },
    persistence: { persistent: true, how: 'files under /etc/keepalived and /etc/sysctl.d; the rules file is loaded by the notify scripts and this install' },
    verifies: ['keepalived-config-invalid', 'keepalived-not-running'],
  };
}
