// npm run release: the offline install artefacts, in release/ (git-ignored):
//   hagw-doctor-<version>-linux-x64   one executable that needs no Node.js on the target: a Node
//                                     single-executable application (this Node's own binary with
//                                     the doctor's bundle injected by postject; scripts/sea-boot.cjs
//                                     loads it)
//   hagw-doctor_<version>_amd64.deb   the same file as /usr/bin/hagw-doctor, with the systemd units
//   SHA256SUMS                        for `sha256sum -c` after the copy
// Run after `npm run build` (the release script in package.json does both).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const started = Date.now();
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const version = pkg.version;
const out = path.join(root, 'release');
const work = path.join(out, '.build');
const exeName = `hagw-doctor-${version}-linux-x64`;
const debName = `hagw-doctor_${version}_amd64.deb`;
// the fuse postject flips so that Node looks for the injected blob (Node's documented value)
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

let last = Date.now();
function step(what) {
  const now = Date.now();
  process.stderr.write(`release: ${what} (+${((now - last) / 1000).toFixed(1)} s)\n`);
  last = now;
}

function fail(message) {
  process.stderr.write(`release: ${message}\n`);
  process.exit(1);
}

if (process.platform !== 'linux' || process.arch !== 'x64') fail(`builds linux-x64 only, this is ${process.platform}-${process.arch}`);
if (!existsSync(path.join(root, 'dist/src/sea/entry.js'))) fail('dist/src/sea/entry.js is missing: run npm run build first');

// The executable carries this very Node binary. It must be one that can carry a blob (it has the
// fuse) and that runs on a host without Node (not linked against a shared libnode, as some
// distribution builds are).
const nodeBin = process.execPath;
if (!readFileSync(nodeBin).includes(SEA_FUSE)) fail(`${nodeBin} cannot carry a single-executable blob (no ${SEA_FUSE}); use an official Node 20 build`);
const libs = execFileSync('ldd', [nodeBin], { encoding: 'utf8' });
if (/libnode|libuv|libv8|libicu/.test(libs)) fail(`${nodeBin} is linked against shared Node libraries; the executable would need them on the target:\n${libs}`);

rmSync(out, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

step('bundling the doctor (ES module chunks, as the npm install loads them)');
// Chunks, not one file: start-up compiles only what a command loads (check never compiles Ink,
// React or yoga), as with the npm install; one 1.7 MB module took twice as long to start.
const chunkDir = path.join(work, 'chunks');
await build({
  entryPoints: { entry: path.join(root, 'dist/src/sea/entry.js') },
  outdir: chunkDir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  // nothing outside the executable: it has no node_modules. react-devtools-core is loaded by Ink
  // only with DEV=true; it is not shipped.
  plugins: [stub('react-devtools-core', 'export default { initialize() {}, connectToDevTools() {} };')],
  // CommonJS dependencies call require() for Node's built-in modules; an embedded module has no
  // file to resolve from, so resolve from the executable's path (built-ins only)
  banner: { js: "import { createRequire as __hagwCreateRequire } from 'node:module'; const require = __hagwCreateRequire(process.execPath);" },
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  minify: true,
  logLevel: 'warning',
});
const chunks = {};
for (const f of readdirSync(chunkDir).sort()) chunks[f] = readFileSync(path.join(chunkDir, f), 'utf8');
writeFileSync(path.join(work, 'chunks.json'), JSON.stringify(chunks));

step('embedding the demo snapshots');
const demoDir = path.join(root, 'demo');
const demo = {};
for (const f of readdirSync(demoDir)
  .filter((f) => f.endsWith('.json'))
  .sort())
  demo[f.replace(/\.json$/, '')] = readFileSync(path.join(demoDir, f), 'utf8');
writeFileSync(path.join(work, 'demo.json'), JSON.stringify(demo));
writeFileSync(path.join(work, 'meta.json'), JSON.stringify({ version, demo: Object.keys(demo) }));

step(`building the single-executable blob with ${nodeBin} (${process.version})`);
const seaConfig = {
  main: path.join(root, 'scripts/sea-boot.cjs'),
  output: path.join(work, 'sea-prep.blob'),
  disableExperimentalSEAWarning: true,
  assets: {
    'chunks.json': path.join(work, 'chunks.json'),
    'demo.json': path.join(work, 'demo.json'),
    'meta.json': path.join(work, 'meta.json'),
  },
};
writeFileSync(path.join(work, 'sea-config.json'), JSON.stringify(seaConfig, null, 2));
execFileSync(nodeBin, ['--experimental-sea-config', path.join(work, 'sea-config.json')], { stdio: ['ignore', 'ignore', 'inherit'] });

const exe = path.join(out, exeName);
copyFileSync(nodeBin, exe);
chmodSync(exe, 0o755);
const postject = path.join(root, 'node_modules/postject/dist/cli.js');
execFileSync(nodeBin, [postject, exe, 'NODE_SEA_BLOB', seaConfig.output, '--sentinel-fuse', SEA_FUSE], { stdio: ['ignore', 'ignore', 'inherit'] });
chmodSync(exe, 0o755);
const probe = execFileSync(exe, ['--version'], { encoding: 'utf8' }).trim();
if (probe !== version) fail(`the executable says ${JSON.stringify(probe)} to --version, expected ${version}`);

step('building the Debian package');
const deb = path.join(work, 'deb');
const install = (rel, from, mode) => {
  const to = path.join(deb, rel);
  mkdirSync(path.dirname(to), { recursive: true });
  copyFileSync(from, to);
  chmodSync(to, mode);
};
install('usr/bin/hagw-doctor', exe, 0o755);
install('lib/systemd/system/hagw-doctor-textfile.service', path.join(root, 'deploy/systemd/hagw-doctor-textfile.service'), 0o644);
install('lib/systemd/system/hagw-doctor-textfile.timer', path.join(root, 'deploy/systemd/hagw-doctor-textfile.timer'), 0o644);
for (const f of ['hagw-doctor.rules.yml', 'hagw-doctor.rules.test.yml'])
  install(`usr/share/doc/hagw-doctor/examples/prometheus/${f}`, path.join(root, 'deploy/prometheus', f), 0o644);
install('usr/share/doc/hagw-doctor/examples/ansible/hagw-doctor.yml', path.join(root, 'deploy/ansible/hagw-doctor.yml'), 0o644);
install('usr/share/doc/hagw-doctor/README.md', path.join(root, 'README.md'), 0o644);
install('usr/share/doc/hagw-doctor/report.md', path.join(root, 'docs/report.md'), 0o644);
mkdirSync(path.join(deb, 'usr/share/doc/hagw-doctor'), { recursive: true });
writeFileSync(
  path.join(deb, 'usr/share/doc/hagw-doctor/copyright'),
  `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: hagw-doctor\n\nFiles: *\nLicense: ${pkg.license}\n\nFiles: usr/bin/hagw-doctor\nComment: a Node.js ${process.version} single-executable application; Node.js is MIT licensed,\n and the bundled npm dependencies under their own (MIT, ISC, BSD) licences.\n`,
);
const installedKb = Math.ceil(du(deb) / 1024);
mkdirSync(path.join(deb, 'DEBIAN'), { recursive: true });
writeFileSync(
  path.join(deb, 'DEBIAN/control'),
  [
    'Package: hagw-doctor',
    `Version: ${version}`,
    'Architecture: amd64',
    'Maintainer: hagw-doctor developers <hagw-doctor@localhost>',
    `Installed-Size: ${installedKb}`,
    'Section: net',
    'Priority: optional',
    // the executable is a Node build: glibc, libstdc++ and libgcc only; ip is read on every run
    'Depends: libc6 (>= 2.28), libstdc++6, libgcc-s1, iproute2',
    // what the probes run; without one, its checks say they could not judge
    'Recommends: keepalived, iptables, conntrack, nftables, procps, tcpdump, ethtool',
    'Suggests: ipvsadm, prometheus-node-exporter',
    `Description: ${pkg.description}`,
    " Inspects a keepalived (VRRP) gateway pair, explains what is wrong in the operator's",
    ' terms, fixes it safely when asked, and generates master/backup configurations.',
    ' One self-contained executable: Node.js is not needed.',
    '',
  ].join('\n'),
);
const debFile = path.join(out, debName);
execFileSync(
  'dpkg-deb', // gzip: xz takes minutes on a 100 MB executable, and every dpkg reads gzip
  ['--root-owner-group', '-Zgzip', '-z6', '--build', deb, debFile],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);

step('writing SHA256SUMS');
const sums = [exeName, debName].map(
  (f) =>
    `${createHash('sha256')
      .update(readFileSync(path.join(out, f)))
      .digest('hex')}  ${f}`,
);
writeFileSync(path.join(out, 'SHA256SUMS'), sums.join('\n') + '\n');
rmSync(work, { recursive: true, force: true });

const mb = (f) => (statSync(path.join(out, f)).size / 1e6).toFixed(1);
step(
  `done in ${((Date.now() - started) / 1000).toFixed(1)} s: release/${exeName} (${mb(exeName)} MB), release/${debName} (${mb(debName)} MB), release/SHA256SUMS`,
);

function stub(name, contents) {
  const filter = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return {
    name: `stub-${name}`,
    setup(b) {
      b.onResolve({ filter }, () => ({ path: name, namespace: 'stub' }));
      b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents, loader: 'js' }));
    },
  };
}

function du(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? du(p) : statSync(p).size;
  }
  return n;
}
