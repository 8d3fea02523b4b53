import { execFileSync } from 'node:child_process';
import { loadConfig } from '../../config';
import { codeBuildId, deploymentVersion, workerDeploymentOptions } from '../../temporal/deployment-version';
import { version } from '../../package.json';

describe('the workers\' Worker Deployment Version', () => {
  test('the build id is the package version and the commit: the image\'s GIT_COMMIT, else the checkout\'s', () => {
    expect(codeBuildId({ GIT_COMMIT: 'ABCDEF0123456789abcdef0123456789abcdef01' })).toBe(`${version}-abcdef0`);
    const head = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { encoding: 'utf8' }).trim();
    expect(codeBuildId({})).toBe(`${version}-${head}`);
  });

  test('TEMPORAL_WORKER_BUILD_ID overrides it; the deployment name comes from TEMPORAL_DEPLOYMENT_NAME', () => {
    expect(deploymentVersion(loadConfig({ MM_SANDBOX: 'true', TEMPORAL_WORKER_BUILD_ID: 'hotfix-7' }))).toEqual({ deploymentName: 'mm-onboarding', buildId: 'hotfix-7' });
    expect(deploymentVersion(loadConfig({ MM_SANDBOX: 'true', TEMPORAL_DEPLOYMENT_NAME: 'mm-eu' })).deploymentName).toBe('mm-eu');
  });

  test('workers are versioned and pin every workflow to its build by default', () => {
    expect(workerDeploymentOptions(loadConfig({ MM_SANDBOX: 'true', TEMPORAL_WORKER_BUILD_ID: 'b1' }))).toEqual({
      useWorkerVersioning: true,
      version: { deploymentName: 'mm-onboarding', buildId: 'b1' },
      defaultVersioningBehavior: 'PINNED',
    });
  });
});
