// Generates the two most used kinds of client from the committed spec and runs
// a developer's scenario with each against the real server (fake LLM, a daily
// bot limit of 3): register, login, befriend, direct chat, post and page
// messages, list chats, a bot chat with a plain and a streamed message, the
// quota, and an expected 404 and 429 read as typed errors.
// Needs `openapi-python-client` on PATH (pip) and this folder's npm packages.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fakeLlm, repo, startServer } from '../support/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const spec = join(repo, 'openapi', 'openapi.json');
let llm;
let server;

before(async () => {
  llm = await fakeLlm();
  llm.delayMs = 5;
  server = await startServer({ BOT_BASE_URL: llm.url, BOT_MODEL: 'fake', BOT_DAILY_LIMIT: '3', RATE_BOT_PER_USER: '0' });
});

after(async () => {
  await server?.stop();
  await llm?.close();
});

/**
 * Runs a command, printing its output; fails the test on a non-zero exit.
 * Asynchronous on purpose: the fake LLM lives in this process and must keep
 * answering while a scenario runs.
 */
async function run(what, command, args, options = {}) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const status = await new Promise((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`${what}: ${e.message}`)));
    child.once('exit', resolve);
  });
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  assert.equal(status, 0, `${what} exited with ${status}`);
  return { stdout, stderr };
}

test('a TypeScript client (openapi-typescript + openapi-fetch) works end to end', async () => {
  const bin = join(here, 'node_modules', '.bin');
  const ts = join(here, 'ts');
  await run('openapi-typescript', join(bin, 'openapi-typescript'), [spec, '-o', join(ts, 'schema.d.ts')]);
  await run('tsc (the scenario type-checks against the generated types)', join(bin, 'tsc'), ['-p', ts]);
  const result = await run('TypeScript scenario', join(bin, 'tsx'), [join(ts, 'scenario.ts')], {
    env: { ...process.env, BASE_URL: server.base, SUFFIX: 'ts' },
  });
  assert.match(result.stdout, /typescript scenario passed/);
});

test('a Python client (openapi-python-client) works end to end', async () => {
  const out = mkdtempSync(join(tmpdir(), 'cc-pyclient-'));
  try {
    const generated = await run('openapi-python-client', 'openapi-python-client', [
      'generate', '--path', spec, '--output-path', join(out, 'client'), '--overwrite',
    ]);
    assert.doesNotMatch(generated.stdout + generated.stderr, /warning/i, 'generation gives no warning');
    const result = await run('Python scenario', 'python3', [join(here, 'python', 'scenario.py')], {
      env: { ...process.env, BASE_URL: server.base, SUFFIX: 'py', PYTHONPATH: join(out, 'client') },
    });
    assert.match(result.stdout, /python scenario passed/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
