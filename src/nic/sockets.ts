// `ss -Hltn` (and -Hlun): listening sockets.
export interface ListeningSocket {
  address: string;
  port: number;
  family: 'inet' | 'inet6';
  /** 0.0.0.0, [::], * */
  wildcard: boolean;
}

export class SsParseError extends Error {}

/** "LISTEN 0 511 203.0.113.100:443 0.0.0.0:*"; addresses may carry %dev, IPv6 is bracketed. */
export function parseListeningSockets(text: string): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const raw of text.split('\n')) {
    const w = raw.trim().split(/\s+/);
    if (w.length < 5 || w[0] === '') continue;
    // state Recv-Q Send-Q Local Peer (-H drops the header; UDP shows UNCONN)
    const local = w[3]!;
    const m = /^(.*):(\d+|\*)$/.exec(local);
    if (!m) throw new SsParseError(`bad local address ${JSON.stringify(local)}`);
    let host = m[1]!.replace(/%[\w.-]+$/, '');
    const v6 = host.startsWith('[');
    host = host.replace(/^\[|\]$/g, '').replace(/%[\w.-]+$/, '');
    out.push({
      address: host,
      port: m[2] === '*' ? 0 : Number(m[2]),
      family: v6 || host.includes(':') ? 'inet6' : 'inet',
      wildcard: host === '*' || host === '0.0.0.0' || host === '::',
    });
  }
  return out;
}
