// generate refuses what cannot work, every problem at once, with the reason.
import { describe, expect, it } from 'vitest';
import { validateGenerateInput } from '../../../src/generate/validate.js';
import { peerReachProblem, priorityProblem, routesFromIpJson, vipProblem } from '../../../src/generate/sanity.js';

const base = { role: 'master', interface: 'eth0', vip: '192.168.100.1/24', self: '192.168.100.2', peer: '192.168.100.3', out: '/tmp/x' };

describe('generate validation', () => {
  it('reports every problem at once', () => {
    const v = validateGenerateInput({ ...base, role: 'backup', vip: '224.0.0.18/24', peer: base.self, priority: '200', vrid: '300' });
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.errors).toHaveLength(4);
    expect(v.errors.join('\n')).toMatch(/--vip: 224\.0\.0\.18 is a multicast address/);
    expect(v.errors.join('\n')).toMatch(/--peer: is the same address as --self/);
    expect(v.errors.join('\n')).toMatch(/--priority: a backup priority of 200 is at or above the master's 150/);
    expect(v.errors.join('\n')).toMatch(/--vrid: 300 is outside 1-255/);
  });

  it("network, broadcast, loopback VIPs and a VIP equal to the node's own address are refused with the reason", () => {
    expect(vipProblem('192.168.100.0', 24)).toMatch(/network address of 192\.168\.100\.0\/24/);
    expect(vipProblem('192.168.100.255', 24)).toMatch(/broadcast address/);
    expect(vipProblem('127.0.0.5', 8)).toMatch(/loopback/);
    expect(vipProblem('10.0.0.1', 32)).toBeUndefined();
    expect(vipProblem('10.0.0.0', 31)).toBeUndefined(); // a /31 has no network or broadcast address
    const own = validateGenerateInput({ ...base, vip: `${base.self}/24` });
    expect(own.ok || own.error).toMatch(/this node's own address/);
  });

  it('priorities on the wrong side of the peer are refused; --peer-priority moves the line', () => {
    expect(priorityProblem('backup', 150, 150)).toMatch(/at or above the master's 150/);
    expect(priorityProblem('master', 100, 100)).toMatch(/at or below the backup's 100/);
    expect(priorityProblem('backup', 149, 150)).toBeUndefined();
    expect(validateGenerateInput({ ...base, role: 'backup', priority: '180', peerPriority: '200' }).ok).toBe(true);
  });

  it('a unicast peer on no local subnet and without a route is refused; a route (a default one too) makes it fine', () => {
    const facts = {
      subnets: ['192.168.100.0/24'],
      routes: routesFromIpJson(
        JSON.stringify([
          { dst: '192.168.100.0/24', type: 'unicast' },
          { dst: '10.9.0.0/16', table: 'local', type: 'local' },
        ]),
      ),
    };
    expect(peerReachProblem('172.16.0.9', facts)).toMatch(/on none of this host's subnets .* no route leads to it/);
    expect(peerReachProblem('192.168.100.3', facts)).toBeUndefined();
    expect(peerReachProblem('172.16.0.9', { ...facts, routes: ['0.0.0.0/0'] })).toBeUndefined();
    expect(peerReachProblem('172.16.0.9', { subnets: facts.subnets })).toBeUndefined(); // routes unknown: not judged
    const v = validateGenerateInput({ ...base, peer: '172.16.0.9' }, facts);
    expect(v.ok || v.error).toMatch(/--peer: 172\.16\.0\.9 is on none/);
    // multicast adverts do not go to the peer's address
    expect(validateGenerateInput({ ...base, peer: '172.16.0.9', multicast: true }, facts).ok).toBe(true);
  });
});
