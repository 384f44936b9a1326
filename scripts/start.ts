// `npm start`: builds and launches the desktop app when the Electron binary is present, and says
// plainly what to do when it is not (it cannot be downloaded on an air-gapped machine).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const electronDir = join(root, 'node_modules', 'electron');
const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
const pathTxt = join(electronDir, 'path.txt');
const binary = override
  ? join(override, process.platform === 'win32' ? 'electron.exe' : process.platform === 'darwin' ? 'Electron.app/Contents/MacOS/Electron' : 'electron')
  : existsSync(pathTxt)
    ? join(electronDir, 'dist', readFileSync(pathTxt, 'utf8').trim())
    : null;

if (!binary || !existsSync(binary)) {
  const version = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version as string;
  console.error(
    [
      `The Electron ${version} binary is not installed here (install skips its download, which needs the internet).`,
      'To run the desktop app, either:',
      `  - copy an unpacked Electron ${version} for this platform onto this machine and run`,
      '      ELECTRON_OVERRIDE_DIST_PATH=/path/to/electron-folder npm start',
      '  - or, on a machine with internet access, run `node node_modules/electron/install.js` and copy node_modules/electron/dist here.',
      'Without Electron, the same UI runs in a browser: npx factorlab serve --lab DIR (prints a local URL).',
    ].join('\n'),
  );
  process.exit(1);
}
const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.ts')], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
const r = spawnSync(binary, [join(root, 'dist', 'electron', 'main.js'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
