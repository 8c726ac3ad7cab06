// The one rule for a peer named on the command line; a module of its own so the command line can
// be checked before anything else loads.

/** [USER@]HOST: a user and a host name or address, never an option or anything a shell would read. */
export function validPeerHost(host: string): boolean {
  return (
    /^(?:[A-Za-z0-9._][A-Za-z0-9._-]{0,63}@)?(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+)$/.test(host) && !host.startsWith('-')
  );
}
