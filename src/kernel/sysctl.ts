// sysctl.conf / sysctl.d parsing: what value a key gets at boot, and from which file.
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
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) return;
    const key = normaliseKey(line.slice(0, eq).trim().replace(/^-/, ''));
    out.push({ key, value: line.slice(eq + 1).trim(), file, line: i + 1, raw });
  });
  return out;
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
