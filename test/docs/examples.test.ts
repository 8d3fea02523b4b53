/**
 * Every shell example in README.md and docs/*.md runs as printed against a real `npm start` (sandbox
 * mode), in order, one shell per file. Only the ports differ: the stack runs on free ones, given to the
 * examples as $MM_API and $MM_SANDBOX, the variables they reach the service through (their defaults
 * are npm start's ports). Each HTTP answer must be a 2xx unless the
 * line before the block says `<!-- example expects HTTP 404 -->` (or `201 or 200`, ...).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { killEverything, removeTmpDirs, spawnNpmStart, waitUntilServing, type StartedNpm } from '../harness/npm-start';

jest.setTimeout(180_000);

const repoRoot = path.resolve(__dirname, '..', '..');
const docs = ['README.md', ...readdirSync(path.join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

interface Example {
  file: string;
  line: number;
  code: string;
  /** HTTP statuses every request of the block may answer; undefined: any 2xx. */
  expects?: number[];
}

/** The fenced `sh`/`bash` blocks of a markdown file, with the expectation marked before each. */
function examplesIn(file: string, markdown: string): Example[] {
  const examples: Example[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fence = lines[i].match(/^(\s*)```(sh|bash)\s*$/);
    if (!fence) continue;
    const indent = fence[1].length;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) body.push(lines[i].slice(indent));
    const marker = lines[start - 1]?.match(/<!-- example expects HTTP ([\d or]+) -->/);
    examples.push({
      file,
      line: start + 1,
      code: body.join('\n'),
      expects: marker ? marker[1].split(/\s+or\s+/).map(Number) : undefined,
    });
  }
  return examples;
}

const examples = docs.map((file) => examplesIn(file, readFileSync(path.join(repoRoot, file), 'utf8')));

/** One shell per file: blocks in order, each request's status written to stderr after a block marker. */
function runFile(blocks: Example[], s: StartedNpm): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = [
    'set -e',
    // Every request of the examples reports its status on stderr, leaving stdout as printed.
    `curl() { command curl -w '%{stderr}@@status %{http_code}\\n' "$@"; }`,
    ...blocks.flatMap((b, i) => [`echo '@@block ${i}' >&2`, b.code]),
  ].join('\n');
  // Only the variables the examples use; a port written into an example would miss the stack.
  const env = { ...process.env, MM_API: `http://127.0.0.1:${s.ports.api}`, MM_SANDBOX: `http://127.0.0.1:${s.ports.sandbox}` };
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { timeout: 60_000, env }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function statusesPerBlock(stderr: string, count: number): number[][] {
  const perBlock: number[][] = Array.from({ length: count }, () => []);
  let current = -1;
  for (const line of stderr.split('\n')) {
    const block = line.match(/^@@block (\d+)$/);
    if (block) current = Number(block[1]);
    const status = line.match(/@@status (\d+)$/);
    if (status && current >= 0) perBlock[current].push(Number(status[1]));
  }
  return perBlock;
}

describe('the examples in the docs', () => {
  let stack: StartedNpm;
  beforeAll(async () => {
    stack = await spawnNpmStart();
    await waitUntilServing(stack);
  });
  afterAll(async () => {
    await killEverything();
    removeTmpDirs();
  });

  test('there are examples to run, in the README and in docs/api.md', () => {
    expect(examples[0].length).toBeGreaterThan(0);
    expect(examples.find((e) => e[0]?.file === 'docs/api.md')?.length).toBeGreaterThan(5);
  });

  test('every example reaches the service through $MM_API / $MM_SANDBOX, set first with npm start\'s ports as defaults', () => {
    const defaults = 'export MM_API="${MM_API:-http://127.0.0.1:3000}" MM_SANDBOX="${MM_SANDBOX:-http://127.0.0.1:3100}"';
    const hardCoded = examples
      .flat()
      .flatMap((e) => e.code.split('\n').filter((l) => l.trim() !== defaults).map((l) => [e, l] as const))
      .flatMap(([e, l]) => [...l.matchAll(/(?:127\.0\.0\.1|localhost|\[::1\]):\d+/g)].map((m) => `${e.file}:${e.line} uses ${m[0]}`));
    expect(hardCoded).toEqual([]);
    for (const blocks of examples) {
      const first = blocks.findIndex((b) => /\$MM_(API|SANDBOX)\b/.test(b.code));
      if (first < 0) continue;
      const setAt = blocks.findIndex((b) => b.code.split('\n').some((l) => l.trim() === defaults));
      expect([blocks[0].file, setAt >= 0 && setAt < first]).toEqual([blocks[0].file, true]);
    }
    expect(examples.flat().filter((b) => /\$MM_API\b/.test(b.code)).length).toBeGreaterThan(10);
  });

  test.each(docs.map((file, i) => [file, i] as const))('every shell example in %s runs as printed', async (_file, i) => {
    const blocks = examples[i];
    if (blocks.length === 0) return;
    const run = await runFile(blocks, stack);
    const perBlock = statusesPerBlock(run.stderr, blocks.length);
    const results = blocks.map((b, j) => ({
      at: `${b.file}:${b.line}`,
      statuses: perBlock[j],
      ok: (perBlock[j].length > 0 || !/\bcurl\b/.test(b.code)) && perBlock[j].every((st) => (b.expects ? b.expects.includes(st) : st >= 200 && st < 300)),
    }));
    const failed = results.filter((r) => !r.ok);
    if (run.code !== 0 || failed.length) {
      throw new Error(
        `shell exit ${run.code}; failing examples: ${JSON.stringify(failed)}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}` +
          `\n--- npm start's errors ---\n${stack.output().split('\n').filter((l) => /error|failed/i.test(l)).slice(-20).join('\n')}`,
      );
    }
  });
});
