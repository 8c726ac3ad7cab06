// Setup defaults that come from the snapshot: VRIDs already used here. Pure.
import type { Snapshot } from '../../types.js';
import { CheckContext } from '../../context.js';
import { keepalivedConfig } from '../../keepalived/from-snapshot.js';

export function vridsInUse(snapshot: Snapshot | undefined): number[] {
  if (!snapshot) return [];
  try {
    const cfg = keepalivedConfig(new CheckContext(snapshot)).result?.config;
    return [...new Set((cfg?.vrrpInstances ?? []).map((i) => i.virtualRouterId).filter((v): v is number => v !== undefined))].sort((a, b) => a - b);
  } catch {
    return [];
  }
}
