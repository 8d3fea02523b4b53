/**
 * The rooms import only what they may (the "may import" column of the project's architecture sketch):
 * the API never reaches into the workers or the activities, the workflow code loads only what runs in
 * Temporal's workflow sandbox, and the Graph fake stays apart from the app.
 */
import { importsOf, roomOf, tsFiles, valueClosure, type Import } from './imports';

/** For each room of the app, the rooms it may import from (itself included); scripts/ and bench/ may import anything. */
const MAY_IMPORT: Record<string, { rooms: string[]; typesOnly?: string[] }> = {
  workflows: { rooms: ['workflows', 'temporal'], typesOnly: ['activities'] },
  activities: { rooms: ['activities', 'config', 'graph', 'secrets', 'temporal', 'workflows'] },
  graph: { rooms: ['graph', 'config'] },
  telemetry: { rooms: ['telemetry', 'config'] },
  temporal: { rooms: ['temporal', 'config'] },
  config: { rooms: ['config'] },
  secrets: { rooms: ['secrets'] },
  api: { rooms: ['api', 'config', 'graph', 'secrets', 'temporal', 'workflows', 'telemetry'] },
  worker: { rooms: ['worker', 'activities', 'config', 'graph', 'temporal', 'workflows', 'telemetry'] },
  sandbox: { rooms: ['sandbox'] },
};

const where = (i: Import) => `${i.file}:${i.line} ${i.typeOnly ? 'import type ' : ''}'${i.specifier}'`;

const crossings = (room: string) =>
  tsFiles(room)
    .flatMap(importsOf)
    .filter((i) => i.target !== undefined)
    .filter((i) => {
      const { rooms, typesOnly = [] } = MAY_IMPORT[room];
      const to = roomOf(i.target!);
      return !rooms.includes(to) && !(i.typeOnly && typesOnly.includes(to));
    })
    .map(where);

test.each(Object.keys(MAY_IMPORT))('%s/ imports only from the rooms it may', (room) => {
  expect(tsFiles(room).length).toBeGreaterThan(0);
  expect(crossings(room)).toEqual([]);
});

test('the API imports nothing from worker/ or activities/, not even a type', () => {
  const reached = tsFiles('api')
    .flatMap(importsOf)
    .filter((i) => i.target && ['worker', 'activities'].includes(roomOf(i.target)))
    .map(where);
  expect(reached).toEqual([]);
});

/** What workflow code may load at run time besides relative modules (type-only imports are erased). */
const WORKFLOW_PACKAGES = ['@temporalio/workflow', '@temporalio/common'];

test.each(tsFiles('workflows'))('%s loads only @temporalio/workflow, @temporalio/common and pure relative modules', (file) => {
  // Everything the module loads, followed through relative imports into other rooms (temporal/...).
  const loaded = valueClosure(file)
    .flatMap(importsOf)
    .filter((i) => !i.typeOnly)
    .filter((i) => (i.target === undefined ? !WORKFLOW_PACKAGES.includes(i.specifier) : false))
    .map(where);
  expect(loaded).toEqual([]);
});
