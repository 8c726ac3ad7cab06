// IP address text in one canonical form, so two spellings of one address compare equal
// (2001:DB8::1 and 2001:db8:0::1; an IPv4 address is unchanged). Text that is not an address is
// returned as it is.
import ipaddr from 'ipaddr.js';

export function canon(a: string): string {
  try {
    return ipaddr.parse(a).toString();
  } catch {
    return a;
  }
}
