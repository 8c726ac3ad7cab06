// Addresses, links, routes and rules, as iproute2 JSON.
import type { ProbeProvider } from '../types.js';
import { PROBE_IP_ADDR, PROBE_IP_LINK, PROBE_IP_ROUTE, PROBE_IP_RULE } from './ids.js';

export const netProvider: ProbeProvider = {
  name: 'net',
  probes: ({ round }) =>
    round > 0
      ? []
      : [
          { id: PROBE_IP_ADDR, kind: 'command', argv: ['ip', '-j', 'addr', 'show'] },
          { id: PROBE_IP_LINK, kind: 'command', argv: ['ip', '-j', '-d', 'link', 'show'] },
          { id: PROBE_IP_ROUTE, kind: 'command', argv: ['ip', '-j', 'route', 'show', 'table', 'all'] },
          { id: PROBE_IP_RULE, kind: 'command', argv: ['ip', '-j', 'rule', 'show'] },
        ],
};
