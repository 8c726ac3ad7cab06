// Every check. Each area owns its module; this list is the only place they meet.
import type { Check } from '../src/check.js';
import { changeChecks } from './change.js';
import { kernelChecks } from './kernel.js';
import { keepalivedChecks } from './keepalived.js';
import { keepalivedConfigChecks } from './keepalived-config.js';
import { netfilterChecks } from './netfilter.js';
import { routingChecks } from './routing.js';
import { vrrpChecks } from './vrrp.js';
import { vrrpFieldChecks } from './vrrp-field.js';
import { fieldConfigChecks } from './field-config.js';
import { fieldHostChecks } from './field-host.js';
import { fieldIpv6Checks } from './field-ipv6.js';
import { fieldLvsChecks } from './field-lvs.js';

export const CHECKS: readonly Check[] = [
  ...kernelChecks,
  ...keepalivedChecks,
  ...keepalivedConfigChecks,
  ...netfilterChecks,
  ...routingChecks,
  ...vrrpChecks,
  ...changeChecks,
  ...vrrpFieldChecks,
  ...fieldConfigChecks,
  ...fieldHostChecks,
  ...fieldIpv6Checks,
  ...fieldLvsChecks,
];
