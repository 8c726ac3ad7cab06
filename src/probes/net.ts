// Addresses, links, routes and rules, as iproute2 JSON.
import type { ProbeProvider } from '../types.js';

export const netProvider: ProbeProvider = {
  name: 'net',
  probes: ({ round }) =>
    round > 0
      ? []
      : [
          { id: 'ip-addr', kind: 'command', argv: ['ip', '-j', 'addr', 'show'] },
          { id: 'ip-link', kind: 'command', argv: ['ip', '-j', '-d', 'link', 'show'] },
          { id: 'ip-route', kind: 'command', argv: ['ip', '-j', 'route', 'show', 'table', 'all'] },
          { id: 'ip-rule', kind: 'command', argv: ['ip', '-j', 'rule', 'show'] },
        ],
};
