// `ethtool -k IF` (features) and the kernel's LRO complaint in dmesg.

export interface OffloadFeature {
  on: boolean;
  /** "[fixed]": the driver does not let it change */
  fixed: boolean;
  /** "[requested on]" and the like */
  note?: string;
}

export interface EthtoolFeatures {
  ifname?: string;
  features: Map<string, OffloadFeature>;
}

export class EthtoolParseError extends Error {}

/** "Features for eth0:" then "name: on|off [fixed]" lines (sub-features indented with a tab). */
export function parseEthtoolFeatures(text: string): EthtoolFeatures {
  const features = new Map<string, OffloadFeature>();
  let ifname: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const head = /^Features for (\S+):$/.exec(line);
    if (head) {
      ifname = head[1];
      continue;
    }
    const m = /^([\w-]+):\s+(on|off)(?:\s+\[(.+)\])?$/.exec(line);
    if (!m) continue;
    const note = m[3];
    features.set(m[1]!, { on: m[2] === 'on', fixed: note === 'fixed', ...(note && note !== 'fixed' ? { note } : {}) });
  }
  if (features.size === 0) throw new EthtoolParseError('no "feature: on|off" line');
  return { ...(ifname ? { ifname } : {}), features };
}

/** LRO/GRO that are on (fixed or not): they merge segments past the MTU, which breaks forwarding. */
export function receiveOffloadsOn(f: EthtoolFeatures): Array<{ name: 'large-receive-offload' | 'generic-receive-offload'; fixed: boolean }> {
  const out: Array<{ name: 'large-receive-offload' | 'generic-receive-offload'; fixed: boolean }> = [];
  for (const name of ['large-receive-offload', 'generic-receive-offload'] as const) {
    const feat = f.features.get(name);
    if (feat?.on) out.push({ name, fixed: feat.fixed });
  }
  return out;
}

/** The kernel's "failed to disable LRO!" warning (dev_disable_lro, when forwarding is switched on),
 *  e.g. "[   12.3] eth0: failed to disable LRO!" or "bond0: ... failed to disable LRO". */
export function lroDisableFailures(dmesg: string): Array<{ ifname: string; line: string }> {
  const out: Array<{ ifname: string; line: string }> = [];
  for (const line of dmesg.split('\n')) {
    // linear on any line: find the phrase first, then read the interface name just before it
    // (an unanchored /([\w.@-]+):\s*failed/ backtracks quadratically on a long line of word characters)
    const at = line.toLowerCase().indexOf('failed to disable lro');
    if (at < 0) continue;
    // netdev_WARN prints "netdevice: eth0: failed to disable LRO!" (older kernels: "eth0: failed ...")
    const m = /([\w.@-]{1,64}):\s{0,8}$/.exec(line.slice(Math.max(0, at - 80), at));
    if (m) out.push({ ifname: m[1]!.replace(/@.*/, ''), line: line.trim().slice(0, 512) });
  }
  return out;
}
