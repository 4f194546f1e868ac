// Writes src/version.ts from package.json, the package's one version source (`npm run build` runs this first):
// the SDK sends its version in the User-Agent, and a bundler may not let code read package.json at run time.
import { readFileSync, writeFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const source = `// Generated from package.json by scripts/version.mjs (npm run build): change the version there.\nexport const VERSION = '${version}';\n`;
const target = new URL('../src/version.ts', import.meta.url);
let current = '';
try {
  current = readFileSync(target, 'utf8');
} catch {
  // the first build: no file yet
}
if (current !== source) writeFileSync(target, source);
