// A generated member (`generate --out DIR`) installed on a lab gateway the way INSTALL.md says:
// the sysctl drop-in applied, the static rules restored, the notify scripts and keepalived.conf
// written into the node's own /etc (keepalived is neither checked nor started here).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { GatewayNode, Lab } from './harness.js';

export async function installGeneratedMember(lab: Lab, gw: GatewayNode, out: string): Promise<void> {
  const file = (rel: string) => readFileSync(path.join(out, rel), 'utf8');
  await lab.writeEtc(gw, 'sysctl.d/90-hagw-doctor.conf', file('sysctl.conf'));
  await lab.execOk(gw, ['sysctl', '-p', '/etc/sysctl.d/90-hagw-doctor.conf']);
  await lab.execOk(gw, ['iptables-restore', '--noflush'], { input: file('rules.v4') });
  for (const s of readdirSync(path.join(out, 'scripts'))) await lab.writeEtc(gw, `keepalived/scripts/${s}`, file(`scripts/${s}`), 0o755);
  await lab.writeEtc(gw, 'keepalived/keepalived.conf', file('keepalived.conf'));
}
