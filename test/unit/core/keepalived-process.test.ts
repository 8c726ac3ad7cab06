import { describe, expect, it } from 'vitest';
import { chosenConfig, logSources, ourKeepalived, parseKeepalivedArgs } from '../../../src/probes/keepalived.js';
import { configIncludes, expandIncludePattern } from '../../../src/keepalived/files.js';
import { internal } from '../../support/snapshot.js';

describe('parseKeepalivedArgs', () => {
  it('reads short, long, attached and bundled forms', () => {
    expect(parseKeepalivedArgs(['keepalived', '-n', '-l', '-D', '-f', '/etc/netns/x/k.conf', '-p', '/run/a.pid'])).toMatchObject({
      config: '/etc/netns/x/k.conf',
      pidFile: '/run/a.pid',
      logConsole: true,
      logDetail: true,
    });
    expect(parseKeepalivedArgs(['/usr/sbin/keepalived', '--use-file=/k.conf', '--log-console', '--dont-fork'])).toMatchObject({
      config: '/k.conf',
      logConsole: true,
    });
    expect(parseKeepalivedArgs(['keepalived', '-nlD', '-f/x.conf'])).toMatchObject({ config: '/x.conf', logConsole: true, logDetail: true });
    expect(parseKeepalivedArgs(['keepalived', '-g/var/log/k.log']).logFile).toBe('/var/log/k.log');
    expect(parseKeepalivedArgs(['keepalived', '-g']).logFile).toBe('/tmp/keepalived.log');
    expect(parseKeepalivedArgs(['keepalived', '--dont-fork']).config).toBeUndefined();
  });
});

describe('which keepalived is ours', () => {
  const procs = internal(
    'keepalived-processes',
    JSON.stringify([
      { pid: 10, ppid: 1, argv: ['keepalived', '-f', '/other.conf'], netns: 'net:[1]', ours: false },
      { pid: 20, ppid: 1, argv: ['keepalived', '-n', '-f', 'etc/mine.conf'], netns: 'net:[2]', ours: true },
      { pid: 21, ppid: 20, argv: ['keepalived', '-n', '-f', 'etc/mine.conf'], netns: 'net:[2]', ours: true },
    ]),
  );
  const records = { 'keepalived-processes': procs };

  it("picks the parent process of this namespace, not another namespace's", () => {
    expect(ourKeepalived(records)?.pid).toBe(20);
  });

  it('takes the config from its argv, --config over it, else the default', () => {
    expect(chosenConfig(records, undefined)).toEqual({ path: '/etc/mine.conf', source: 'process' });
    expect(chosenConfig(records, '/tmp/x.conf')).toEqual({ path: '/tmp/x.conf', source: '--config' });
    expect(chosenConfig({}, undefined)).toEqual({ path: '/etc/keepalived/keepalived.conf', source: 'default' });
  });

  it('reads the log where the argv sends it', () => {
    const proc = ourKeepalived(records)!;
    expect(logSources({ ...proc, argv: ['keepalived', '-l'] }, '/tmp/lab/gw1.log')[0]).toMatchObject({ path: '/tmp/lab/gw1.log' });
    expect(logSources({ ...proc, argv: ['keepalived', '-l'] }, '/dev/pts/0').map((s) => s.id)).toContain('syslog');
    expect(logSources({ ...proc, argv: ['keepalived', '--log-file=/var/log/ka.log'] }, undefined)[0]).toMatchObject({ path: '/var/log/ka.log' });
  });
});

describe('include', () => {
  it('resolves relative includes against the including file and ignores comments', () => {
    const text = 'global_defs {\n}\ninclude conf.d/*.conf\n! include /nope.conf\n# include /nope2\ninclude "/etc/keepalived/x y.conf"\n';
    expect(configIncludes(text, '/etc/keepalived/keepalived.conf')).toEqual(['/etc/keepalived/conf.d/*.conf', '/etc/keepalived/x y.conf']);
  });

  it('matches globs with braces, classes and no hidden files', () => {
    const g = expandIncludePattern('/etc/keepalived/conf.d/{vrrp,lvs}-[0-9]*.conf');
    expect(g.dir).toBe('/etc/keepalived/conf.d');
    expect(['vrrp-1.conf', 'lvs-22x.conf', 'vrrp-a.conf', '.vrrp-1.conf', 'other.conf'].filter((n) => g.matches(n))).toEqual(['vrrp-1.conf', 'lvs-22x.conf']);
    expect(expandIncludePattern('/etc/k/plain.conf').dir).toBeNull();
  });
});

describe('parsedConfigFromRecords', () => {
  it('parses once per set of config files read, again when an include arrives, with the config id', async () => {
    const { parsedConfigFromRecords } = await import('../../../src/probes/keepalived.js');
    const { file, dir } = await import('../../support/snapshot.js');
    const main = '/etc/keepalived/keepalived.conf';
    const records: Record<string, ReturnType<typeof file>> = {
      [`kconf:${main}`]: file(`kconf:${main}`, main, '@gw1 global_defs {\n  router_id gw1\n}\n@gw2 global_defs {\n  router_id gw2\n}\ninclude conf.d/*.conf\n'),
      hostname: file('hostname', '/proc/sys/kernel/hostname', 'gw1\n'),
    };
    const first = parsedConfigFromRecords(records, undefined)!;
    expect(first.result.config.globalDefs.routerId).toBe('gw1');
    expect(parsedConfigFromRecords(records, undefined)!.result).toBe(first.result);
    records['kconf-dir:/etc/keepalived/conf.d'] = dir('kconf-dir:/etc/keepalived/conf.d', '/etc/keepalived/conf.d', ['a.conf']);
    records['kconf:/etc/keepalived/conf.d/a.conf'] = file(
      'kconf:/etc/keepalived/conf.d/a.conf',
      '/etc/keepalived/conf.d/a.conf',
      'vrrp_instance VI_9 {\n  interface eth0\n  virtual_router_id 9\n}\n',
    );
    const second = parsedConfigFromRecords(records, undefined)!;
    expect(second.result).not.toBe(first.result);
    expect(second.result.config.vrrpInstances.map((i) => i.name)).toEqual(['VI_9']);
  });
});
