// What the browser and generated-client tests need from outside a browser: a
// fake OpenAI-compatible LLM and the real ChattConnect binary on a free port
// with a fresh SQLite database. No dependencies beyond Node itself.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The tutor's check prompt starts with this (see src/bot/check.rs). */
const CHECK_PROMPT = "You are an English teacher. Correct the learner's sentence";

/**
 * A fake chat-completions server: streams `answer(messages)` in small chunks,
 * answers the tutor's check requests with `check(text)` and other unstreamed
 * requests (the practice summary) with `summary()`, each as one JSON answer.
 */
export async function fakeLlm() {
  // delayMs between chunks, firstDelayMs before the first; failNext: answer that
  // many reply requests with a 500.
  // failChecks: answer that many check requests with a 500.
  // checked: the text of every check request, in order.
  const llm = { calls: 0, checks: 0, checked: [], delayMs: 40, firstDelayMs: 0, failNext: 0, failChecks: 0 };
  llm.answer = () => 'That sounds interesting! Tell me more about your day at work.';
  llm.check = (text) => ({ corrected: text.replace(/\bgoed\b/g, 'went') });
  llm.summary = () => ({
    went_well: 'You ordered politely and answered every question.',
    phrases: ['Could I have the bill, please?', 'What do you recommend?', 'I would like the soup.'],
  });
  const whole = (res, answer) => {
    const content = typeof answer === 'string' ? answer : JSON.stringify(answer);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content } }] }));
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', async () => {
      const request = JSON.parse(body);
      if (request.messages[0].content.startsWith(CHECK_PROMPT)) {
        llm.checks += 1;
        llm.checked.push(request.messages[request.messages.length - 1].content);
        if (llm.failChecks > 0) {
          llm.failChecks -= 1;
          res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ error: { message: 'fake failure', type: 'server_error' } }));
          return;
        }
        whole(res, llm.check(request.messages[request.messages.length - 1].content));
        return;
      }
      if (request.stream !== true) {
        whole(res, llm.summary(request.messages));
        return;
      }
      llm.calls += 1;
      if (llm.failNext > 0) {
        llm.failNext -= 1;
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'fake failure', type: 'server_error' } }));
        return;
      }
      const text = llm.answer(request.messages);
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      await new Promise((r) => setTimeout(r, llm.firstDelayMs));
      for (let i = 0; i < text.length; i += 6) {
        const chunk = { id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: text.slice(i, i + 6) } }] };
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
        await new Promise((r) => setTimeout(r, llm.delayMs));
      }
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  llm.url = `http://127.0.0.1:${server.address().port}/v1`;
  llm.close = () => new Promise((r) => server.close(r));
  return llm;
}

export async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * Runs the server binary (CHATTCONNECT_BIN, else the debug build) until `stop()`.
 * `down()` stops it and `up()` starts it again on the same port and database,
 * as an outage would.
 */
export async function startServer(env = {}, { dir: shared } = {}) {
  // `shared`: another server's directory (the same SQLite database and JWT
  // secret), as a second instance would have.
  const dir = shared || mkdtempSync(join(tmpdir(), 'cc-browser-'));
  const port = await freePort();
  const target = process.env.CARGO_TARGET_DIR || join(repo, 'target');
  const bin = process.env.CHATTCONNECT_BIN || join(target, 'debug', 'chattconnect');
  const base = `http://127.0.0.1:${port}`;
  let child = null;
  const environment = {
    PATH: process.env.PATH,
    DATABASE_URL: `sqlite://${dir}/app.db?mode=rwc`,
    DATA_DIR: dir,
    BIND: `127.0.0.1:${port}`,
    PUBLIC_URL: base,
    RUST_LOG: 'warn',
    RATE_REGISTER_PER_IP: '0',
    RATE_LOGIN_PER_IP: '0',
    // Stopping a test server drains nothing: no load balancer waits on it.
    SHUTDOWN_GRACE_SECS: '0',
    ...env,
  };
  const up = async () => {
    child = spawn(bin, ['serve'], { cwd: repo, env: environment, stdio: ['ignore', 'inherit', 'inherit'] });
    for (let i = 0; i < 100; i += 1) {
      try {
        if ((await fetch(`${base}/readyz`)).ok) break;
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const down = async () => {
    if (!child) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    child = null;
  };
  await up();
  return {
    base,
    port,
    dir,
    up,
    down,
    /** Runs the command line on this server's database; its standard output. */
    cli: (args) => execFileSync(bin, args, { cwd: repo, env: environment, encoding: 'utf8' }),
    stop: async () => {
      await down();
      if (!shared) rmSync(dir, { recursive: true, force: true });
    },
  };
}
