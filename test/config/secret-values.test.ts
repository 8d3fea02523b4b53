/**
 * A start-up error names a secret, never its value (issue 33: `METRICS_BEARER_TOKEN must be at least
 * 16 characters (got "Xk9#mP2$vL7qR4t")`), whichever way the secret came: the environment, a
 * `<NAME>_FILE`, Temporal's config file, or a URL's credentials.
 */
import { problemsOf, secretFiles } from '../harness/config-problems';
import { quotedValue } from '../../config/quoted-values';
import { SECRET_VARIABLES } from '../../config/secret-files';

const { write: file } = secretFiles('mm-secret-values-');


/** A value no validation of the service accepts as a bearer key: short, with a space. */
const badSecret = (name: string) => `Xk9#mP2$ ${name.toLowerCase()}`;
/** Other settings set wrong too, so the environment fails validation wherever a secret sits in it. */
const alsoWrong = { PORT: 'abc', GRAPH_MAX_RPS: '0' };

test.each([...SECRET_VARIABLES])('%s: a start-up error names it and never quotes its value, given directly or as a file', (name) => {
  const value = badSecret(name);
  expect(quotedValue(name, value)).toBe('');
  for (const env of [{ [name]: value }, { [`${name}_FILE`]: file(name, value) }]) {
    const problems = problemsOf({ MM_SANDBOX: 'false', ...alsoWrong, ...env });
    expect(problems.some((p) => p.startsWith('PORT must be a port number (got "abc")'))).toBe(true); // plain values still quoted
    expect(problems.join('\n')).not.toContain(value);
    expect(problems.join('\n')).not.toContain('Xk9#mP2$');
  }
});

test('the issue\'s METRICS_BEARER_TOKEN: the rule and the variable, not the token', () => {
  expect(problemsOf({ MM_SANDBOX: 'true', METRICS_BEARER_TOKEN: 'Xk9#mP2$vL7qR4t' })).toEqual(['METRICS_BEARER_TOKEN must be at least 16 characters']);
  expect(problemsOf({ MM_SANDBOX: 'true', METRICS_BEARER_TOKEN: 'Xk9#mP2$ vL7qR4t-long-enough' })).toEqual([
    expect.stringMatching(/^METRICS_BEARER_TOKEN must be printable ASCII without spaces \(it is sent as "Authorization: Bearer <key>"\)$/),
  ]);
});

test("a Temporal config file that is not valid TOML is named with the fault's line and column, never its lines (they hold api_key)", () => {
  const toml = file('broken.toml', '[profile.default]\naddress = "127.0.0.1:7233"\napi_key = "tc-Xk9#mP2$vL7qR4t\n');
  const problems = problemsOf({ MM_SANDBOX: 'true', TEMPORAL_CONFIG_FILE: toml });
  expect(problems).toEqual([expect.stringMatching(/^Temporal connection settings .*: Invalid TOML document: .* \(line 3, column \d+\)$/)]);
  expect(problems.join('\n')).not.toContain('Xk9#mP2$');
});

test('a URL is quoted without its credentials, query and fragment; a partner callback URL not at all', () => {
  const [graph] = problemsOf({ MM_SANDBOX: 'true', GRAPH_API_BASE_URL: 'ftp://ops:Xk9#mP2$@graph.internal/v?access_token=Xk9' });
  expect(graph).toBe('GRAPH_API_BASE_URL must be an http(s) URL (got "ftp://…@graph.internal/v?…")');
  const [origins] = problemsOf({ MM_SANDBOX: 'true', CODEC_CORS_ORIGINS: 'https://ui.example,ui:Xk9#mP2$@other' });
  expect(origins).toBe('CODEC_CORS_ORIGINS must be an http(s) URL (got "https://ui.example,…@other")');
  const [callback] = problemsOf({ MM_SANDBOX: 'true', PARTNER_CALLBACK_URL: 'hooks.partner.example/T0/B0/Xk9mP2vL7qR4t', PARTNER_CALLBACK_SECRET: 's' });
  expect(callback).toBe('PARTNER_CALLBACK_URL must be an http(s) URL');
});

test('settings without secrets are still quoted, so a typo is easy to see', () => {
  expect(problemsOf({ MM_SANDBOX: 'true', HOST: 'everywhere' })).toEqual([expect.stringMatching(/^HOST must be .* \(got "everywhere"\)$/)]);
  expect(quotedValue('META_APP_ID', '12x')).toBe(' (got "12x")');
  for (const secret of ['TEMPORAL_TLS_CLIENT_KEY_DATA', 'TEMPORAL_GRPC_META_AUTHORIZATION', 'SOME_SETTING_ADDED_LATER']) expect(quotedValue(secret, 'x')).toBe('');
});
