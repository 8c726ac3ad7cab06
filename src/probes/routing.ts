// Probes of the routing area.
import type { ProbeProvider } from '../types.js';

export const routingProviders: ProbeProvider[] = [];
