// The distribution family from /etc/os-release (pure): where fixes persist, and how a NIC setting
// is kept across reboots, differ between Debian and RHEL families.

export type DistroFamily = 'debian' | 'rhel' | 'unknown';

/** Parses /etc/os-release into its KEY=value pairs (quotes removed). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(raw.trim());
    if (!m) continue;
    let v = m[2]!.trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]!] = v.replace(/\\(["$`\\])/g, '$1');
  }
  return out;
}

export function detectFamily(osRelease: string | undefined): { family: DistroFamily; id: string } {
  const kv = parseOsRelease(osRelease ?? '');
  const id = (kv.ID ?? '').toLowerCase();
  const like = `${id} ${(kv.ID_LIKE ?? '').toLowerCase()}`.split(/\s+/);
  if (like.some((x) => x === 'debian' || x === 'ubuntu')) return { family: 'debian', id };
  if (like.some((x) => ['rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'ol', 'amzn'].includes(x))) return { family: 'rhel', id };
  return { family: 'unknown', id };
}
