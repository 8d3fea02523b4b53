/**
 * What each source file imports, read with the TypeScript compiler's parser: every `import`,
 * `export … from`, `require()`, `require.resolve()` and `import()`, with whether it is type-only
 * (erased at compile time, so it loads nothing at run time).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const ROOT = path.resolve(__dirname, '..', '..');

/** The folders that hold the service's source (test/ is checked apart). */
export const SOURCE_ROOMS = ['workflows', 'activities', 'graph', 'temporal', 'api', 'worker', 'config', 'secrets', 'telemetry', 'scripts', 'sandbox', 'bench'];

export interface Import {
  /** The importing file, relative to the repository root. */
  file: string;
  line: number;
  specifier: string;
  /** A relative specifier's file, relative to the repository root. */
  target?: string;
  typeOnly: boolean;
}

/** Every .ts file under `dir` (relative to the repository root), sorted. */
export function tsFiles(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .flatMap((name) => {
      const rel = path.posix.join(dir, name);
      if (statSync(path.join(ROOT, rel)).isDirectory()) return tsFiles(rel);
      return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [rel] : [];
    })
    .sort();
}

/** The file a relative specifier names, the way Node and tsc resolve it. */
export function resolveRelative(fromFile: string, specifier: string): string | undefined {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), specifier));
  for (const candidate of [`${base}.ts`, base, `${base}/index.ts`]) {
    const abs = path.join(ROOT, candidate);
    if (existsSync(abs) && statSync(abs).isFile()) return candidate;
  }
  return undefined;
}

const allTypeOnly = (clause: ts.ImportClause | undefined): boolean => {
  if (!clause) return false; // `import './x'`: loaded for its effects
  if (clause.isTypeOnly) return true;
  if (clause.name) return false;
  const bindings = clause.namedBindings;
  return !!bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
};

export function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(path.join(ROOT, file), 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: Import[] = [];
  const add = (node: ts.Node, literal: ts.Expression | undefined, typeOnly: boolean) => {
    if (!literal || !ts.isStringLiteralLike(literal)) return;
    const specifier = literal.text;
    const target = specifier.startsWith('.') ? resolveRelative(file, specifier) : undefined;
    const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    found.push({ file, line, specifier, target, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) add(node, node.moduleSpecifier, allTypeOnly(node.importClause));
    else if (ts.isExportDeclaration(node)) add(node, node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      const isResolve = ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'require' && callee.name.text === 'resolve';
      if (isRequire || isResolve || callee.kind === ts.SyntaxKind.ImportKeyword) add(node, node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal, true); // `import('x').T` in a type
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The files `entry` loads at run time, itself included: the closure over its value imports. */
export function valueClosure(entry: string): string[] {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const i of importsOf(file)) if (!i.typeOnly && i.target) walk(i.target);
  };
  walk(entry);
  return [...seen].sort();
}

/** `api/partner/schemas.ts` → `api`. */
export const roomOf = (file: string): string => file.split('/')[0];
