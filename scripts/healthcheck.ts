/**
 * The container health check: exits 0 when the URL answers 2xx within 3 s, else 1. Used from the
 * image (no curl in node:slim): `node dist/scripts/healthcheck.js http://127.0.0.1:3000/healthz`.
 */
const url = process.argv[2];
if (!url) {
  console.error('usage: healthcheck <url>');
  process.exit(2);
}
fetch(url, { signal: AbortSignal.timeout(3_000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  (err) => {
    console.error(`${url}: ${(err as Error).message}`);
    process.exit(1);
  },
);
