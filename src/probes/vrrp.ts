// Probes of the vrrp area.
import type { ProbeProvider } from '../types.js';

export const vrrpProviders: ProbeProvider[] = [];
