// Probes of the netfilter area.
import type { ProbeProvider } from '../types.js';

export const netfilterProviders: ProbeProvider[] = [];
