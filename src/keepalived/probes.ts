// stat:PATH probes for every notify/track script the collected config names, so the checks can
// judge script security (keepalived -t does not). Derived from the kconf: records of earlier rounds.
import type { ProbeProvider, ProbeSpec } from '../types.js';
import { configFromRecords } from '../probes/keepalived.js';
import type { KeepalivedConfig, ScriptRef } from './model.js';

/** Every script the config runs: notify_* of instances and sync groups, and vrrp_script programs. */
export function configScripts(config: KeepalivedConfig): Array<{ ref: ScriptRef; owner: string; role: string }> {
  const out: Array<{ ref: ScriptRef; owner: string; role: string }> = [];
  for (const vi of config.vrrpInstances)
    for (const [role, ref] of Object.entries(vi.notify))
      if (ref) out.push({ ref, owner: `vrrp_instance ${vi.name}`, role: role === 'notify' ? 'notify' : `notify_${role}` });
  for (const g of config.vrrpSyncGroups)
    for (const [role, ref] of Object.entries(g.notify))
      if (ref) out.push({ ref, owner: `vrrp_sync_group ${g.name}`, role: role === 'notify' ? 'notify' : `notify_${role}` });
  for (const s of config.vrrpScripts) if (s.script) out.push({ ref: s.script, owner: `vrrp_script ${s.name}`, role: 'script' });
  return out;
}

export const scriptStatProbeId = (path: string) => `stat:${path}`;

export const keepalivedScriptProvider: ProbeProvider = {
  name: 'keepalived-scripts',
  probes: ({ records, options }) => {
    const config = configFromRecords(records, options.config);
    if (!config) return [];
    const specs = new Map<string, ProbeSpec>();
    // keepalived looks relative programs up in PATH; only absolute ones can be stat'ed as written
    for (const { ref } of configScripts(config))
      if (ref.path.startsWith('/')) specs.set(ref.path, { id: scriptStatProbeId(ref.path), kind: 'stat', path: ref.path });
    return [...specs.values()];
  },
};
