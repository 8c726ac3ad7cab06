import { describe, expect, it } from 'vitest';
import { EthtoolParseError, lroDisableFailures, parseEthtoolFeatures, receiveOffloadsOn } from '../../../src/nic/ethtool.js';
import { allOnOneCpu, InterruptsParseError, nicIrqs, parseInterrupts } from '../../../src/nic/interrupts.js';
import { parseListeningSockets, SsParseError } from '../../../src/nic/sockets.js';
import { fixture } from '../routing/helpers.js';

describe('ethtool -k (captured on veth)', () => {
  it('GRO off, LRO off [fixed] by default', () => {
    const f = parseEthtoolFeatures(fixture('routing', 'ethtool-k.veth.txt'));
    expect(f.ifname).toBe('eth0');
    expect(f.features.get('large-receive-offload')).toEqual({ on: false, fixed: true });
    expect(f.features.get('tx-checksum-ipv4')).toEqual({ on: false, fixed: true });
    expect(receiveOffloadsOn(f)).toEqual([]);
  });

  it('GRO turned on', () => {
    expect(receiveOffloadsOn(parseEthtoolFeatures(fixture('routing', 'ethtool-k.veth-gro-on.txt')))).toEqual([
      { name: 'generic-receive-offload', fixed: false },
    ]);
  });

  it('LRO on [fixed] and [requested on] notes', () => {
    const f = parseEthtoolFeatures('Features for bond0:\nlarge-receive-offload: on [fixed]\ngeneric-receive-offload: off [requested on]\n');
    expect(receiveOffloadsOn(f)).toEqual([{ name: 'large-receive-offload', fixed: true }]);
    expect(f.features.get('generic-receive-offload')).toEqual({ on: false, fixed: false, note: 'requested on' });
  });

  it('an error message is not a feature list', () => {
    expect(() => parseEthtoolFeatures('netlink error: no device matches name (offset 24)\nnetlink error: No such device\n')).toThrow(EthtoolParseError);
  });

  it("the kernel's failed-to-disable-LRO warning, old and new forms", () => {
    const log =
      '[   10.1] ixgbe 0000:01:00.0 eth2: NIC Link is Up\n[   12.3] netdevice: eth2: failed to disable LRO!\n[ 13.0] bond0.100: failed to disable LRO!\n';
    expect(lroDisableFailures(log).map((f) => f.ifname)).toEqual(['eth2', 'bond0.100']);
    expect(lroDisableFailures('nothing here')).toEqual([]);
  });
});

describe('/proc/interrupts', () => {
  it('reads the captured VM file: device lines only, names kept', () => {
    const i = parseInterrupts(fixture('routing', 'interrupts.vm.txt'));
    expect(i.cpus).toEqual(['CPU0', 'CPU1']);
    expect(i.lines.find((l) => l.irq === '38')).toEqual({ irq: '38', perCpu: [0, 5450], name: 'PCI-MSIX-0000:00:03.0 1-edge virtio2-input.0' });
    expect(i.lines.some((l) => l.irq === 'LOC')).toBe(false);
    expect(nicIrqs(i, 'eth0', ['virtio2']).map((l) => l.irq)).toEqual(['37', '38', '39']);
  });

  it('all on one CPU, or spread', () => {
    const one = parseInterrupts(
      '  CPU0 CPU1 CPU2 CPU3\n 50: 900 0 0 0 PCI-MSI eth0-TxRx-0\n 51: 800 0 0 0 PCI-MSI eth0-TxRx-1\n 52: 5 0 0 0 PCI-MSI eth1-TxRx-0\n',
    );
    const lines = nicIrqs(one, 'eth0');
    expect(lines.map((l) => l.irq)).toEqual(['50', '51']);
    expect(allOnOneCpu(lines, 4)).toEqual({ cpu: 0 });
    const spread = parseInterrupts('  CPU0 CPU1\n 50: 900 0 PCI-MSI eth0-TxRx-0\n 51: 0 800 PCI-MSI eth0-TxRx-1\n');
    expect(allOnOneCpu(nicIrqs(spread, 'eth0'), 2)).toBeUndefined();
    expect(allOnOneCpu(lines, 1)).toBeUndefined();
    expect(() => parseInterrupts('garbage\n')).toThrow(InterruptsParseError);
  });
});

describe('ss -Hltn (captured)', () => {
  it('addresses, IPv6 brackets and wildcards', () => {
    expect(parseListeningSockets(fixture('routing', 'ss-Hltn.txt'))).toEqual([
      { address: '203.0.113.100', port: 443, family: 'inet', wildcard: false },
      { address: '10.0.0.11', port: 80, family: 'inet', wildcard: false },
      { address: '::1', port: 8080, family: 'inet6', wildcard: false },
      { address: '*', port: 22, family: 'inet', wildcard: true },
    ]);
  });

  it('interface-scoped and UDP lines; broken lines throw', () => {
    expect(parseListeningSockets('UNCONN 0 0 10.0.0.5%eth0:53 0.0.0.0:*\nUNCONN 0 0 [fe80::1%eth0]:547 [::]:*\n')).toMatchObject([
      { address: '10.0.0.5', port: 53 },
      { address: 'fe80::1', port: 547, family: 'inet6' },
    ]);
    expect(() => parseListeningSockets('LISTEN 0 5 nonsense peer\n')).toThrow(SsParseError);
  });
});
