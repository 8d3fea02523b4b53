/**
 * Every repository path the docs and the code's comments cite exists, and every link into a markdown
 * heading finds it: a file moved or renamed without its citations fails here, not in a reader's hands.
 *
 * Scanned: README.md, docs/ (every markdown file, at any depth), sandbox/README.md and bench/README.md,
 * and the comments (never the strings) of the TypeScript and JavaScript files under the source folders.
 *
 * What counts as a citation (`citationIn` below; its cases are the first test):
 * - a markdown link's relative target, resolved from the markdown file's folder as a browser would;
 * - a word with a slash whose last part has a file extension (`api/app.ts`, `.ci/run` does not need
 *   one: see the next rule), resolved from the repository's root or, failing that, the citing file's
 *   folder. A path that leaves the repository (`../…`) is always a failure: the repository documents
 *   itself and never points a reader outside it;
 * - a word with a slash whose first part is a folder at the repository's root (`test/harness/`);
 * - a bare file name with an extension (`onboarding.ts`, `README.md`): some file of that name must
 *   exist somewhere in the repository;
 * - a section named after a markdown file, as in `docs/api.md, "Onboarding state"` or `README "How it works"`:
 *   the file must have a heading that begins with those words.
 * Not citations: URLs and anything with a scheme, absolute paths (`/tmp/…`, routes like
 * `/openapi.json`), home paths (`~/.cache/…`), globs, placeholders (`<wabaId>`, `$API`, `…`), npm
 * packages (`@temporalio/…`), domains (`github.com/…`), prose with a slash (`and/or`,
 * `application/json`), and what only exists at run time or after a build: whatever .gitignore names
 * (`.data/`, `dist/`, `node_modules/`, the browser test's screenshots). Fenced code blocks in markdown are left to test/docs/examples.test.ts, which runs
 * them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as ts from 'typescript';

const repoRoot = path.resolve(__dirname, '..', '..');

const SOURCE_FOLDERS = ['api', 'workflows', 'activities', 'graph', 'worker', 'config', 'scripts', 'bench', 'sandbox', 'secrets', 'test'];
const NOT_WALKED = new Set(['node_modules', '.git', '.data', 'dist', 'coverage']);
/** What exists only at run time or after a build: the folders and file patterns .gitignore names. */
const ignored = readFileSync(path.join(repoRoot, '.gitignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#') && !line.startsWith('!'));
const ignoredFolders = ignored.filter((l) => !l.includes('*')).map((l) => l.replace(/^\//, '').replace(/\/?$/, '/'));
const ignoredSuffixes = ignored.filter((l) => /^\*\.[\w.]+$/.test(l)).map((l) => l.slice(1));
const isRuntimeOutput = (p: string) => {
  const norm = p.replace(/^\.\//, '').replace(/\/?$/, '/');
  return ignoredFolders.some((f) => norm.startsWith(f)) || ignoredSuffixes.some((s) => p.endsWith(s));
};
const FILE_EXTENSION = /\.(ts|tsx|js|cjs|mjs|json|md|txt|ya?ml|sh|css|html|sql|toml|proto)$/;
/** A bare name counts only with the extensions of the files a repository like this one holds. */
const BARE_FILE_EXTENSION = /\.(ts|js|cjs|mjs|json|md|txt|ya?ml|sh|css|html)$/;
/** Words that look like file names and are not: product names. */
const NOT_FILES = new Set(['node.js', 'next.js', 'vue.js']);

/** Folders and files at the repository's root (what a root-relative citation may start with). */
const rootEntries = new Set(readdirSync(repoRoot).filter((name) => !NOT_WALKED.has(name)));

function walk(dir: string, into: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (NOT_WALKED.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, into);
    else into.push(full);
  }
  return into;
}

const allFiles = walk(repoRoot);
const basenames = new Set(allFiles.map((f) => path.basename(f)));

type Citation = { kind: 'path'; path: string } | { kind: 'name'; name: string };

/**
 * The citation one word of prose or comment makes, if any. `word` is a run of characters between
 * spaces, quotes, backticks, brackets and commas.
 */
function citationIn(word: string): Citation | undefined {
  let w = word.replace(/^[(]+/, '').replace(/[.,;:!?)]+$/, '');
  w = w.replace(/#.*$/, ''); // an anchor or an issue number
  w = w.replace(/:\d+(:\d+)?$/, ''); // a line number after the path
  if (!w) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(w) || /^(mailto|data|javascript):/i.test(w)) return undefined;
  if (/^[/~$@]/.test(w)) return undefined; // absolute, home, variable, npm scope
  if (/[*?{}<>$=:…%@\\]/.test(w)) return undefined; // globs, placeholders, key=value, host:port
  if (!w.includes('/')) {
    if (!BARE_FILE_EXTENSION.test(w) || NOT_FILES.has(w.toLowerCase()) || isRuntimeOutput(w)) return undefined;
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(w)) return undefined;
    return { kind: 'name', name: w };
  }
  const parts = w.split('/').filter((p, i) => p !== '' || i === 0);
  const first = parts[0] === '.' ? parts[1] : parts[0];
  if (first === undefined || isRuntimeOutput(w)) return undefined;
  if (first === '..') return { kind: 'path', path: w };
  if (!parts.every((p) => /^[A-Za-z0-9_.-]*$/.test(p))) return undefined;
  const isRootEntry = rootEntries.has(first);
  // A list of extensions (`.ts/.js`) is not a path; a dot-folder is one only at the root (`.ci/run`).
  if (!isRootEntry && first.startsWith('.')) return undefined;
  // A domain (github.com/…, graph.facebook.com/…) is not a folder of ours.
  if (!isRootEntry && /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(first) && !FILE_EXTENSION.test(first)) return undefined;
  const last = parts[parts.length - 1];
  if (isRootEntry || FILE_EXTENSION.test(last)) return { kind: 'path', path: w };
  return undefined; // prose: and/or, application/json, Intent/Signup
}

interface Cited {
  /** `file:line` of the citation. */
  at: string;
  cited: string;
  problem: string;
}

/** Checks one citation made in `fromFile`; undefined when it holds. */
function check(citation: Citation, fromFile: string): string | undefined {
  if (citation.kind === 'name') return basenames.has(citation.name) ? undefined : 'no file of that name in the repository';
  const candidates = [path.resolve(repoRoot, citation.path), path.resolve(path.dirname(fromFile), citation.path)];
  const inside = candidates.filter((c) => c === repoRoot || c.startsWith(repoRoot + path.sep));
  if (inside.length === 0) return 'outside the repository';
  return inside.some((c) => existsSync(c)) ? undefined : 'does not exist';
}

const lineOf = (text: string, offset: number) => text.slice(0, offset).split('\n').length;
const rel = (file: string) => path.relative(repoRoot, file);

/** The words of a piece of text, with their offsets. */
function* wordsOf(text: string, base: number): Generator<{ word: string; offset: number }> {
  for (const m of text.matchAll(/[^\s`'"()[\],|]+/g)) yield { word: m[0], offset: base + m.index! };
}

/** The text of a markdown file's headings, without markup, lower-cased. */
function headingsOf(markdown: string): string[] {
  return [...stripFences(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)].map((m) =>
    m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*_]/g, '').toLowerCase(),
  );
}

/** `docs/api.md, "Onboarding state"`, `README "How it works"`: a section named in words. */
const SECTION_CITATION = /((?:[\w.-]+\/)*[\w.-]+\.md|\bREADME)(?:'s)?,?\s+(?:section\s+)?["\u201c]([^"\u201d\n]{2,80})["\u201d]/g;

function citationsInText(text: string, base: number, file: string, whole: string, out: Cited[]): void {
  for (const m of text.matchAll(SECTION_CITATION)) {
    const cited = m[1] === 'README' ? 'README.md' : m[1];
    const target = [path.resolve(repoRoot, cited), path.resolve(path.dirname(file), cited)].find((c) => existsSync(c) && statSync(c).isFile());
    if (!target) continue; // the file itself is checked as a path or name below
    const section = m[2].toLowerCase();
    const found = headingsOf(readFileSync(target, 'utf8')).some((h) => h.startsWith(section));
    out.push({ at: `${rel(file)}:${lineOf(whole, base + m.index!)}`, cited: `${cited}, "${m[2]}"`, problem: found ? '' : 'no such heading' });
  }
  for (const { word, offset } of wordsOf(text, base)) {
    const citation = citationIn(word);
    if (!citation) continue;
    const problem = check(citation, file);
    out.push({ at: `${rel(file)}:${lineOf(whole, offset)}`, cited: citation.kind === 'name' ? citation.name : citation.path, problem: problem ?? '' });
  }
}

/** GitHub's anchors for a markdown file's headings. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of stripFences(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = m[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  for (const m of markdown.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(m[1]);
  return anchors;
}

/** The markdown with fenced code blocks blanked out (lines kept, so line numbers hold). */
function stripFences(markdown: string): string {
  return markdown.replace(/^(\s*)(```|~~~)[^\n]*\n[\s\S]*?^\s*\2\s*$/gm, (block) => block.replace(/[^\n]/g, ' '));
}

function citationsInMarkdown(file: string): Cited[] {
  const whole = readFileSync(file, 'utf8');
  const text = stripFences(whole);
  const out: Cited[] = [];
  // Links first, blanked out afterwards so their targets are not read again as words.
  const linkless = text.replace(/(!?\[[^\]\n]*\])\(([^)\s]+)(?:\s+"[^"]*")?\)/g, (match, label: string, target: string, offset: number) => {
    const at = `${rel(file)}:${lineOf(whole, offset)}`;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return label + ' '.repeat(match.length - label.length); // a URL
    const [targetPath, anchor] = target.split('#', 2);
    const resolved = targetPath ? path.resolve(path.dirname(file), decodeURIComponent(targetPath)) : file;
    let problem = '';
    if (!(resolved === repoRoot || resolved.startsWith(repoRoot + path.sep))) problem = 'outside the repository';
    else if (!existsSync(resolved)) problem = 'does not exist';
    else if (anchor && resolved.endsWith('.md') && statSync(resolved).isFile() && !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) {
      problem = `no heading for #${anchor}`;
    }
    out.push({ at, cited: target, problem });
    return label + ' '.repeat(match.length - label.length);
  });
  citationsInText(linkless, 0, file, whole, out);
  return out;
}

function citationsInComments(file: string): Cited[] {
  const text = readFileSync(file, 'utf8');
  const kind = /\.(c|m)?js$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const ranges = new Map<number, ts.CommentRange>();
  const visit = (node: ts.Node) => {
    for (const r of ts.getLeadingCommentRanges(text, node.getFullStart()) ?? []) ranges.set(r.pos, r);
    for (const r of ts.getTrailingCommentRanges(text, node.getEnd()) ?? []) ranges.set(r.pos, r);
    node.getChildren(source).forEach(visit);
  };
  visit(source);
  const out: Cited[] = [];
  for (const r of ranges.values()) citationsInText(text.slice(r.pos, r.end), r.pos, file, text, out);
  return out;
}

/** The citations that do not hold, each once (a link whose label is its own path is one citation). */
function broken(cited: Cited[]): Cited[] {
  const seen = new Set<string>();
  return cited.filter((c) => {
    const key = `${c.at} ${c.cited.replace(/#.*$/, '')}`;
    if (!c.problem || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const markdownFiles = [
  path.join(repoRoot, 'README.md'),
  ...allFiles.filter((f) => f.startsWith(path.join(repoRoot, 'docs') + path.sep) && f.endsWith('.md')),
  path.join(repoRoot, 'sandbox', 'README.md'),
  path.join(repoRoot, 'bench', 'README.md'),
].filter((f) => existsSync(f));

const codeFiles = allFiles.filter(
  (f) => SOURCE_FOLDERS.some((dir) => f.startsWith(path.join(repoRoot, dir) + path.sep)) && /\.(ts|js|cjs|mjs)$/.test(f) && !f.endsWith('.d.ts'),
);

describe('paths cited in the docs and the code', () => {
  test('the matcher takes citations and leaves prose, URLs, routes, globs and run-time paths', () => {
    const cited = (w: string) => citationIn(w);
    // Citations.
    expect(cited('api/app.ts')).toEqual({ kind: 'path', path: 'api/app.ts' });
    expect(cited('scripts/start.ts,')).toEqual({ kind: 'path', path: 'scripts/start.ts' });
    expect(cited('test/harness/')).toEqual({ kind: 'path', path: 'test/harness/' });
    expect(cited('docs/api.md#onboarding-state')).toEqual({ kind: 'path', path: 'docs/api.md' });
    expect(cited('api/app.ts:12')).toEqual({ kind: 'path', path: 'api/app.ts' });
    expect(cited('.ci/run')).toEqual({ kind: 'path', path: '.ci/run' });
    expect(cited('shared/seed/some-file.txt')).toEqual({ kind: 'path', path: 'shared/seed/some-file.txt' });
    expect(cited('../shared/NOTES.md')).toEqual({ kind: 'path', path: '../shared/NOTES.md' });
    expect(cited('onboarding.ts')).toEqual({ kind: 'name', name: 'onboarding.ts' });
    expect(cited('SOMETHING.md.')).toEqual({ kind: 'name', name: 'SOMETHING.md' });
    const sections = (text: string) => [...text.matchAll(SECTION_CITATION)].map((m) => [m[1], m[2]]);
    expect(sections('read once (docs/api.md, "Onboarding state"). Pure')).toEqual([['docs/api.md', 'Onboarding state']]);
    expect(sections('alert on (README "Operations"); exported')).toEqual([['README', 'Operations']]);
    expect(sections('the README\'s "Tests" section')).toEqual([['README', 'Tests']]);
    expect(sections('answers `200 {"received": 1}` after README.md')).toEqual([]);
    // Not citations.
    for (const w of [
      'https://graph.facebook.com/v24.0/me',
      'http://127.0.0.1:8233',
      '/openapi.json',
      '/tmp/x',
      '~/.cache/mm-onboarding/temporal-cli-1.5.1/',
      '~/.config/temporalio/temporal.toml',
      '.data/temporal.sqlite',
      'dist/worker/main.js',
      'node_modules/@temporalio/worker/lib/worker.js',
      'test/**/*.test.ts',
      '*.ts',
      '$API/v1/onboardings',
      'mm-onboarding:<wabaId>',
      '@temporalio/envconfig',
      'github.com/temporalio/cli/cmd/temporal',
      'nodejs/node#47739',
      'and/or',
      'application/json',
      'Intent/Signup',
      'Node.js',
      'temporal.toml',
      '.ts/.js/.cjs',
      'test/browser/screenshots/',
      'npm-debug.log',
      'MM_TEMPORAL_CACHE=/tmp/x',
      'bench:bulk',
      'e.g.',
      'v24.0',
    ]) {
      expect([w, cited(w)]).toEqual([w, undefined]);
    }
  });

  test('the docs are scanned: README.md, docs/, sandbox/README.md', () => {
    expect(markdownFiles.map(rel)).toEqual(expect.arrayContaining(['README.md', 'docs/api.md', 'sandbox/README.md']));
    expect(citationsInMarkdown(path.join(repoRoot, 'README.md')).length).toBeGreaterThan(5);
    expect(codeFiles.length).toBeGreaterThan(50);
  });

  test('every path and heading the docs cite exists', () => {
    expect(broken(markdownFiles.flatMap(citationsInMarkdown))).toEqual([]);
  });

  test("every path the code's comments cite exists", () => {
    expect(broken(codeFiles.flatMap(citationsInComments))).toEqual([]);
  });
});
