import { describe, expect, it } from 'vitest';
import { bootValue, parseSysctlFile } from '../../../src/kernel/sysctl.js';
import { sysctlFiles } from '../../../src/probes/kernel.js';
import { dir } from '../../support/snapshot.js';

describe('sysctl files', () => {
  it('parses both separators, comments and the ignore-error dash', () => {
    const s = parseSysctlFile('# c\n; c\nnet.ipv4.ip_forward=1\n-net/ipv4/conf/all/rp_filter = 2\ngarbage\n', '/etc/sysctl.d/a.conf');
    expect(s.map((x) => [x.key, x.value, x.line])).toEqual([
      ['net.ipv4.ip_forward', '1', 3],
      ['net.ipv4.conf.all.rp_filter', '2', 4],
    ]);
  });

  it('the last file applied wins', () => {
    const files = [
      { file: '/usr/lib/sysctl.d/50-default.conf', text: 'net.ipv4.ip_forward = 1\n' },
      { file: '/etc/sysctl.conf', text: 'net.ipv4.ip_forward = 0\n' },
    ];
    expect(bootValue(files, 'net.ipv4.ip_forward')).toMatchObject({ value: '0', file: '/etc/sysctl.conf' });
    expect(bootValue(files, 'net.ipv4.tcp_syncookies')).toBeUndefined();
  });

  it('orders sysctl.d files by name, /etc overriding /usr/lib for the same name, sysctl.conf last', () => {
    const records = {
      'dir:/etc/sysctl.d': dir('dir:/etc/sysctl.d', '/etc/sysctl.d', ['99-x.conf', '10-a.conf', 'README']),
      'dir:/usr/lib/sysctl.d': dir('dir:/usr/lib/sysctl.d', '/usr/lib/sysctl.d', ['10-a.conf', '50-default.conf']),
    };
    expect(sysctlFiles(records)).toEqual(['/etc/sysctl.d/10-a.conf', '/usr/lib/sysctl.d/50-default.conf', '/etc/sysctl.d/99-x.conf', '/etc/sysctl.conf']);
  });
});
