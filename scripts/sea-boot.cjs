// The start-up script of the single executable (npm run release): Node's single-executable
// applications run one CommonJS script, while the doctor is an ES module bundle (Ink's layout engine
// awaits at its top level, which CommonJS cannot). So this script reads the bundle embedded in the
// executable and imports it from a data: URL with Node's own ES module loader. Nothing is written
// to disk, and nothing is read from outside the executable.
'use strict';
const sea = require('node:sea');
const vm = require('node:vm');

// the loader hook below is marked experimental on Node 20; its warning is noise to an operator
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const text = typeof warning === 'string' ? warning : warning && warning.message;
  if (/USE_MAIN_CONTEXT_DEFAULT_LOADER/.test(String(text))) return undefined;
  return emitWarning.call(process, warning, ...rest);
};

const meta = JSON.parse(sea.getAsset('meta.json', 'utf8'));
let demo;
globalThis.__hagwDoctorEmbedded = {
  version: meta.version,
  demoNames: meta.demo,
  demoText(name) {
    demo ??= JSON.parse(sea.getAsset('demo.json', 'utf8'));
    return Object.prototype.hasOwnProperty.call(demo, name) ? demo[name] : undefined;
  },
};

const url = 'data:text/javascript;base64,' + Buffer.from(sea.getAsset('hagw-doctor.mjs')).toString('base64');
const importer = new vm.Script('(url) => import(url)', {
  filename: 'hagw-doctor-boot.js',
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
}).runInThisContext();

importer(url)
  .then((mod) => mod.run(process.argv.slice(2)))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      // an error from the module loader names the module: the whole bundle as a data: URL
      const text = (s) => String(s).replace(/data:text\/javascript;base64,[A-Za-z0-9+/=]+/g, '(the embedded bundle)');
      process.stderr.write(`hagw-doctor: internal error: ${text((err && err.message) || err)}${process.env.HAGW_DOCTOR_DEBUG ? `\n${text(err && err.stack)}` : ''}\n`);
      process.exitCode = 3;
    },
  );
