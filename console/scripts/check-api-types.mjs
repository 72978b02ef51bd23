// Fails when src/api/schema.d.ts is not what the server's OpenAPI document generates. The
// server's test suite checks that the document it serves is the snapshot read here, so the
// console's types cannot drift from the server.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'ocp-api-types-'));
try {
  const fresh = join(dir, 'schema.d.ts');
  execFileSync(
    'npx',
    ['openapi-typescript', '../crates/ocp-server/tests/snapshots/openapi.json', '-o', fresh],
    { stdio: 'ignore' },
  );
  if (readFileSync(fresh, 'utf8') !== readFileSync('src/api/schema.d.ts', 'utf8')) {
    console.error('src/api/schema.d.ts differs from the OpenAPI document: run npm run api:generate');
    process.exit(1);
  }
  console.log('API types match the OpenAPI document');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
