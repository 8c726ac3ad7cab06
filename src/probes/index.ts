// Every probe provider. Each area owns its module; this list is the only place they meet.
import type { ProbeProvider } from '../types.js';
import { hostProvider } from './host.js';
import { kernelProvider } from './kernel.js';
import { netProvider } from './net.js';
import { keepalivedProvider, keepalivedScriptProvider } from './keepalived.js';
import { netfilterProviders } from './netfilter.js';
import { routingProviders } from './routing.js';
import { ipvsProvider } from './ipvs.js';
import { nicProvider } from './nic.js';
import { vrrpProviders } from './vrrp.js';
import { changeProvider } from '../change/probe.js';
import { fieldProvider } from './field.js';
import { driftProvider } from '../peer/drift.js';

export const PROVIDERS: readonly ProbeProvider[] = [
  hostProvider,
  kernelProvider,
  netProvider,
  keepalivedProvider,
  keepalivedScriptProvider,
  ...netfilterProviders,
  ...routingProviders,
  ipvsProvider,
  nicProvider,
  ...vrrpProviders,
  changeProvider,
  fieldProvider,
  driftProvider,
];
