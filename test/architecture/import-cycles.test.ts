/**
 * No import cycle anywhere: not in the service's source, not in the tests. A cycle makes load order
 * decide what a module sees (an `undefined` import at start-up) and glues rooms that should stand
 * apart. Type-only imports count too: they tie the modules together all the same.
 * madge (dependency-tree + detective-typescript) builds the graph, resolving through tsconfig.json.
 */
import path from 'node:path';
import madge from 'madge';
import { ROOT, SOURCE_ROOMS } from './imports';

test('no import cycle in the source or the tests', async () => {
  const graph = await madge(
    [...SOURCE_ROOMS, 'test'].map((room) => path.join(ROOT, room)),
    {
      baseDir: ROOT,
      fileExtensions: ['ts'],
      tsConfig: path.join(ROOT, 'tsconfig.json'),
      detectiveOptions: { ts: { skipTypeImports: false } },
    },
  );
  // The graph really holds the source (a wrong baseDir or tsconfig would find nothing, hence no cycle).
  const modules = Object.keys(graph.obj());
  expect(modules).toEqual(expect.arrayContaining(['api/app.ts', 'workflows/onboarding.ts', 'graph/client.ts', 'temporal/connection.ts']));
  expect(graph.obj()['api/app.ts'].length).toBeGreaterThan(10);
  expect(graph.circular().map((cycle) => cycle.join(' → '))).toEqual([]);
}, 60_000);
