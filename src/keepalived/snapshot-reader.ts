// A ConfigSourceReader over the snapshot's kconf:/kconf-dir: probes, so the parser reads
// exactly what was collected (live or from a snapshot file).
import type { ProbeRecord } from '../types.js';
import type { ConfigSourceReader } from './model.js';
import { configDirProbeId, configFileProbeId } from './files.js';

export function snapshotReader(probes: Readonly<Record<string, ProbeRecord>>): ConfigSourceReader {
  return {
    readFile: (p) => {
      const r = probes[configFileProbeId(p)];
      return r?.status === 'ok' ? r.stdout : undefined;
    },
    why: (p) => {
      const r = probes[configFileProbeId(p)];
      return r && r.status !== 'ok' ? r.reason : undefined;
    },
    listDir: (d) => {
      const r = probes[configDirProbeId(d)];
      if (r?.status !== 'ok') return undefined;
      try {
        return JSON.parse(r.stdout) as string[];
      } catch {
        return undefined;
      }
    },
  };
}
