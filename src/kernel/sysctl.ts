// sysctl.conf / sysctl.d: what value a key gets at boot and from which file, and the doctor's own
// drop-in (the one path, header and key match that every sysctl fix and the generated configuration
// use). Pure: the callers pass file contents ('' when a file is absent).
import type { FixStep } from '../types.js';

export interface SysctlSetting {
  key: string;
  value: string;
  file: string;
  line: number;
  raw: string;
}

/** "net.ipv4.ip_forward = 1", "net/ipv4/ip_forward=1", "-net.ipv4.x = 1" (ignore errors); # and ; comments. */
export function parseSysctlFile(text: string, file: string): SysctlSetting[] {
  const out: SysctlSetting[] = [];
  text.split('\n').forEach((raw, i) => {
    const key = settingKey(raw);
    if (key === undefined) return;
    out.push({ key, value: raw.slice(raw.indexOf('=') + 1).trim(), file, line: i + 1, raw });
  });
  return out;
}

/** The key a line sets (normalised), or undefined for a blank line, a comment or a line without `key =`. */
export function settingKey(raw: string): string | undefined {
  const line = raw.trim();
  if (!line || line.startsWith('#') || line.startsWith(';')) return undefined;
  const eq = line.indexOf('=');
  if (eq <= 0) return undefined;
  return normaliseKey(line.slice(0, eq).trim().replace(/^-/, ''));
}

/** sysctl accepts both separators; a key with '/' uses '/' as separator and '.' literally. */
export function normaliseKey(key: string): string {
  return key.includes('/') ? key.split('/').join('.') : key;
}

/** The setting that wins at boot for `key`: the last one applied (files are given in apply order). */
export function bootValue(files: Array<{ file: string; text: string }>, key: string): SysctlSetting | undefined {
  let winner: SysctlSetting | undefined;
  for (const f of files) for (const s of parseSysctlFile(f.text, f.file)) if (s.key === key) winner = s;
  return winner;
}

// ------------------------------------------------------------------ the doctor's drop-in

export const SYSCTL_DROP_IN = '/etc/sysctl.d/90-hagw-doctor.conf';

/** The first line of a drop-in the doctor creates. */
export const DROP_IN_HEADER = '# Written by hagw-doctor; kept across reboots by systemd-sysctl.';

/** Sets KEY = VALUE lines in the drop-in, replacing earlier settings of the same keys (in either
 *  spelling); every other line is kept. */
export function setSysctlInDropIn(current: string, values: Record<string, string>): string {
  const keys = new Set(Object.keys(values).map(normaliseKey));
  const kept = (current === '' ? [] : current.replace(/\n$/, '').split('\n')).filter((l) => !keys.has(settingKey(l) ?? ''));
  const header = kept.length === 0 ? [DROP_IN_HEADER] : [];
  return [...header, ...kept, ...Object.entries(values).map(([k, v]) => `${k} = ${v}`)].join('\n') + '\n';
}

/** A file step that persists sysctl values in the doctor's drop-in (current: its content now, '' if absent). */
export function sysctlPersistStep(current: string, values: Record<string, string>, why = `keep ${Object.keys(values).join(', ')} after a reboot`): FixStep {
  return { write: { path: SYSCTL_DROP_IN, content: setSysctlInDropIn(current, values), mode: 0o644 }, why };
}
