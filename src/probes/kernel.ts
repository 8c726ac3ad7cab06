// sysctl values (runtime) and the sysctl files that set them at boot.
import type { ProbeProvider } from '../types.js';
import { dirProbeId, fileProbeId, sysctlProbeId } from './ids.js';
import { RUNTIME_SYSCTLS, SYSCTL_CONF, SYSCTL_DIRS, sysctlFiles, sysctlPath } from '../kernel/files.js';

export { RUNTIME_SYSCTLS, SYSCTL_CONF, SYSCTL_DIRS, sysctlFiles, sysctlPath, sysctlProbeId };

export const kernelProvider: ProbeProvider = {
  name: 'kernel',
  probes: ({ round, records }) => {
    if (round === 0) {
      return [
        ...RUNTIME_SYSCTLS.map((key) => ({ id: sysctlProbeId(key), kind: 'file' as const, path: sysctlPath(key) })),
        { id: fileProbeId(SYSCTL_CONF), kind: 'file' as const, path: SYSCTL_CONF },
        ...SYSCTL_DIRS.map((dir) => ({ id: dirProbeId(dir), kind: 'dir' as const, path: dir })),
      ];
    }
    return sysctlFiles(records).map((file) => ({ id: fileProbeId(file), kind: 'file' as const, path: file }));
  },
};
