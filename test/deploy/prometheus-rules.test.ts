/**
 * deploy/prometheus/ as Prometheus itself reads it: promtool (the pinned build of
 * scripts/ensure-prometheus.sh) checks the scrape config and the alert rules and runs the rules'
 * unit tests; every alert has a test where it fires and one where it stays quiet; and the alerts are
 * exactly the rows of docs/operations.md "What to alert on".
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { repoRoot } from '../harness/image-build';
import { alertRules, ensurePrometheus, prometheusDir } from '../harness/prometheus';

const run = promisify(execFile);
let promtool: string;

// A fresh machine builds Prometheus first (several minutes on two cores; once per machine).
beforeAll(async () => {
  ({ promtool } = await ensurePrometheus());
}, 40 * 60_000);

const promtoolSays = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await run(promtool, args, { cwd: prometheusDir });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
};

test('promtool accepts the scrape config (the secret file is the compose container\'s, so syntax only)', async () => {
  const res = await promtoolSays('check', 'config', '--syntax-only', 'prometheus.yml');
  expect(res).toMatchObject({ code: 0 });
});

test('promtool accepts the alert rules', async () => {
  const res = await promtoolSays('check', 'rules', 'alerts.yml');
  expect(res.out).toContain(`SUCCESS: ${alertRules().length} rules found`);
  expect(res.code).toBe(0);
});

test("the rules' unit tests pass (promtool test rules)", async () => {
  const res = await promtoolSays('test', 'rules', 'alerts.test.yml');
  if (res.code !== 0) throw new Error(res.out);
  expect(res.out).toContain('SUCCESS');
});

test('every alert has a unit test where it fires and one where it stays quiet', () => {
  const tests = (parse(readFileSync(path.join(prometheusDir, 'alerts.test.yml'), 'utf8')) as {
    tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
  }).tests.flatMap((t) => t.alert_rule_test ?? []);
  for (const { alert } of alertRules()) {
    const cases = tests.filter((t) => t.alertname === alert);
    expect({ alert, fires: cases.some((c) => (c.exp_alerts ?? []).length > 0) }).toEqual({ alert, fires: true });
    expect({ alert, quiet: cases.some((c) => (c.exp_alerts ?? []).length === 0) }).toEqual({ alert, quiet: true });
  }
});

test('the alerts are exactly the rows of docs/operations.md "What to alert on", each naming its rule', () => {
  const doc = readFileSync(path.join(repoRoot, 'docs', 'operations.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## What to alert on'), doc.indexOf('\n## ', doc.indexOf('## What to alert on') + 1));
  const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| alert') && !l.startsWith('|---'));
  const named = rows.flatMap((row) => [...row.split('|')[2].matchAll(/`(MM[A-Za-z]+)`/g)].map((m) => m[1]));
  expect(rows.every((row) => /`MM[A-Za-z]+`/.test(row.split('|')[2]))).toBe(true);
  expect([...named].sort()).toEqual(alertRules().map((r) => r.alert).sort());
  // Every runbook an alert links to is a heading of the operations guide.
  const anchors = new Set([...doc.matchAll(/^#+ (.+)$/gm)].map((m) => m[1].toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-')));
  for (const rule of alertRules()) expect({ alert: rule.alert, anchor: anchors.has(rule.annotations!.runbook.split('#')[1]) }).toEqual({ alert: rule.alert, anchor: true });
});
