// `check` must never load Ink or React (issue 2): they are for the interactive app only. A module
// hook records every module the real CLI loads for `check`, and for the app as a counter-proof.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '../..');

const CLI = `const { main } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/src/cli.js')).href)});\nprocess.exitCode = await main(process.argv.slice(2));\n`;

async function modulesLoadedBy(args: string[], runnerBody = CLI): Promise<string[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hagw-modules-'));
  try {
    const log = path.join(dir, 'loaded.txt');
    const hooks = path.join(dir, 'hooks.mjs');
    await writeFile(
      hooks,
      `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }\n`,
    );
    const preload = path.join(dir, 'preload.mjs');
    await writeFile(preload, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    // the tsc output (not the bundle), so module names stay visible
    const runner = path.join(dir, 'run.mjs');
    await writeFile(runner, runnerBody);
    await execa(process.execPath, ['--import', pathToFileURL(preload).href, runner, ...args], { reject: false, timeout: 60_000, env: { NO_COLOR: '1' } });
    return (await readFile(log, 'utf8')).split('\n').filter(Boolean);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const uiModule = (url: string) => /node_modules\/(ink|react|react-reconciler|@inkjs\/ui|yoga-layout)\//.test(url) || /\/dist\/src\/app\//.test(url);

describe('check stays free of the UI', () => {
  it('check --json on a snapshot loads no Ink, React or app module', async () => {
    const loaded = await modulesLoadedBy(['check', '--json', '--from', path.join(ROOT, 'demo/ip-forward-off.json')]);
    expect(loaded.some((u) => u.includes('/dist/src/pipeline.js'))).toBe(true);
    expect(loaded.filter(uiModule)).toEqual([]);
  });

  it('the same hook does see them when the app is loaded, so the test above can fail', async () => {
    // the lazy import the CLI makes on a TTY, without running the app
    const loaded = await modulesLoadedBy([], `await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/src/app/run.js')).href)});\n`);
    expect(loaded.some((u) => /node_modules\/ink\//.test(u))).toBe(true);
    expect(loaded.some((u) => /node_modules\/react\//.test(u))).toBe(true);
  });
});
