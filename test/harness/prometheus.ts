/**
 * Prometheus and promtool as built by scripts/ensure-prometheus.sh (pinned, from Go source, cached in
 * ~/.cache/mm-onboarding/), and the project's deploy/prometheus/ files read as data.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { repoRoot } from './image-build';

const run = promisify(execFile);
export const prometheusDir = path.join(repoRoot, 'deploy', 'prometheus');
export const dashboardFile = path.join(repoRoot, 'deploy', 'grafana', 'dashboards', 'mm-onboarding.json');

/** The first call builds them (minutes, once per machine); later calls find the cache. */
export async function ensurePrometheus(): Promise<{ prometheus: string; promtool: string }> {
  const { stdout } = await run('bash', [path.join(repoRoot, 'scripts', 'ensure-prometheus.sh')], { cwd: repoRoot, maxBuffer: 1 << 26 });
  const dir = stdout.trim();
  return { prometheus: path.join(dir, 'prometheus'), promtool: path.join(dir, 'promtool') };
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  const doc = parse(readFileSync(path.join(prometheusDir, 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  return doc.groups.flatMap((g) => g.rules).filter((r) => r.alert);
}

export interface DashboardTarget {
  panel: string;
  expr: string;
}

/** Every query of every panel of the Grafana dashboard. */
export function dashboardTargets(): DashboardTarget[] {
  const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as {
    panels: Array<{ title: string; targets?: Array<{ expr: string }>; panels?: unknown[] }>;
  };
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}
