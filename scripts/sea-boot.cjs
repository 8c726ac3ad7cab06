// The start-up script of the single executable (npm run release). Node's single-executable
// applications run one CommonJS script, while the doctor is ES modules (Ink's layout engine awaits
// at its top level, which CommonJS cannot). The executable embeds the doctor's bundle as ES module
// chunks (the asset chunks.json: file name -> source); this script registers module hooks that
// serve them under hagw-sea:/NAME, and imports the entry with Node's own ES module loader. Nothing
// is written to disk, and nothing is read from outside the executable.
'use strict';
const sea = require('node:sea');
const vm = require('node:vm');
const { register } = require('node:module');

// the module hooks and the loader callback below are marked experimental on Node 20; their
// warnings are noise to an operator
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const text = typeof warning === 'string' ? warning : warning && warning.message;
  if (/USE_MAIN_CONTEXT_DEFAULT_LOADER|Custom ESM Loaders|module\.register/.test(String(text))) return undefined;
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

// resolve: a relative import from an embedded chunk names another chunk; load: its source
const hooks = `
let chunks;
export function initialize(data) { chunks = data.chunks; }
export function resolve(specifier, context, next) {
  if (specifier.startsWith('hagw-sea:/')) return { url: specifier, shortCircuit: true };
  if (context.parentURL?.startsWith('hagw-sea:/') && specifier.startsWith('./')) return { url: 'hagw-sea:/' + specifier.slice(2), shortCircuit: true };
  return next(specifier, context);
}
export function load(url, context, next) {
  if (!url.startsWith('hagw-sea:/')) return next(url, context);
  const source = Object.prototype.hasOwnProperty.call(chunks, url.slice(10)) ? chunks[url.slice(10)] : undefined;
  if (source === undefined) throw new Error('no embedded module ' + url);
  return { format: 'module', source, shortCircuit: true };
}`;
register('data:text/javascript,' + encodeURIComponent(hooks), { data: { chunks: JSON.parse(sea.getAsset('chunks.json', 'utf8')) } });

const importer = new vm.Script('(url) => import(url)', {
  filename: 'hagw-doctor-boot.js',
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
}).runInThisContext();

importer('hagw-sea:/entry.mjs')
  .then((mod) => mod.run(process.argv.slice(2)))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      // never dump an embedded module's source into an error line
      const text = (s) => String(s).replace(/data:text\/javascript[^\s'"]*/g, '(embedded module)');
      process.stderr.write(
        `hagw-doctor: internal error: ${text((err && err.message) || err)}${process.env.HAGW_DOCTOR_DEBUG ? `\n${text(err && err.stack)}` : ''}\n`,
      );
      process.exitCode = 3;
    },
  );
