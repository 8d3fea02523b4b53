'use strict';
/**
 * Runs the Temporal dev server for a parent that may die without warning (SIGKILL, OOM kill, crash).
 * Usage: node dev-server-lifeline.cjs <temporal binary> <args...>, with stdin a pipe from the parent.
 *
 * The kernel closes that pipe when the parent dies, however it dies, so end-of-file on stdin is a
 * parent-death notice that needs no polling and works on every platform Node runs on. The server then
 * gets SIGTERM (SQLite closes cleanly) and SIGKILL if it is still there 10 s later. SIGTERM, SIGINT or
 * SIGHUP sent to this process stop the server the same way. When the server exits for any reason this
 * process exits with its code, so the parent sees a dead server as a dead child.
 * Plain CommonJS: it starts in milliseconds with bare `node`, no TypeScript loader.
 */
const { spawn } = require('node:child_process');
const { constants } = require('node:os');

const [binary, ...args] = process.argv.slice(2);
const server = spawn(binary, args, { stdio: ['ignore', 'inherit', 'inherit'] });

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.kill('SIGTERM');
  setTimeout(() => server.kill('SIGKILL'), 10_000).unref();
}
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

server.on('error', (err) => {
  console.error(`cannot run ${binary}: ${err.message}`);
  process.exit(127);
});
server.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
