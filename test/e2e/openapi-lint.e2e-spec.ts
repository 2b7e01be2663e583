import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDataDir, useTestApp } from '../support/test-app';

const ROOT = join(__dirname, '../..');
const BIN = join(ROOT, 'node_modules/.bin');

interface Finding {
  rule: string;
  severity: string;
  where: string;
}

/** Redocly with the committed redocly.yaml (recommended rules): every error and warning. */
function redocly(file: string): Finding[] {
  const run = spawnSync(join(BIN, 'redocly'), ['lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format', 'json'], { encoding: 'utf8', timeout: 120_000 });
  if (run.error) throw new Error(`cannot run redocly (npm ci installs @redocly/cli): ${run.error.message}`);
  const report = JSON.parse(run.stdout) as { problems: Array<{ ruleId: string; severity: string; location: Array<{ pointer: string }> }> };
  return report.problems.map((p) => ({ rule: p.ruleId, severity: p.severity, where: p.location[0]?.pointer ?? '' }));
}

/** Spectral with the committed .spectral.yaml (`spectral:oas`): every finding, hints included. */
function spectral(file: string): Finding[] {
  // The report goes to a file: on stdout Spectral appends a sentence to the JSON.
  const out = `${file}.spectral.json`;
  const run = spawnSync(join(BIN, 'spectral'), ['lint', file, '--ruleset', join(ROOT, '.spectral.yaml'), '--format', 'json', '--output', out, '--fail-severity', 'error'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.error) throw new Error(`cannot run spectral (npm ci installs @stoplight/spectral-cli): ${run.error.message}`);
  const findings = JSON.parse(readFileSync(out, 'utf8')) as Array<{ code: string; severity: number; path: string[] }>;
  return findings.map((f) => ({ rule: f.code, severity: ['error', 'warn', 'info', 'hint'][f.severity], where: f.path.join('.') }));
}

type Document = {
  paths: Record<string, Record<string, { summary?: string; description?: string; security?: unknown[]; responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, unknown> }> }>>;
  components: { securitySchemes: Record<string, { bearerFormat?: string; description?: string }>; schemas: Record<string, { properties: Record<string, { type?: string; format?: string }> }> };
};

describe('the OpenAPI document (/docs-json) as a contract', () => {
  const t = useTestApp();
  const work = tempDataDir('secrets-ledger-openapi-');
  let document: Document;
  let file: string;

  beforeAll(async () => {
    const response = await t.request('/docs-json', { token: null });
    expect(response.status).toBe(200);
    document = (await response.json()) as Document;
    file = join(work.dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document, null, 2));
  });
  afterAll(() => work.cleanup());

  it('passes Redocly (recommended) and Spectral (spectral:oas) with no error and no warning', () => {
    expect(redocly(file)).toEqual([]);
    expect(spectral(file)).toEqual([]);
  }, 240_000);

  it('the linters see what is missing (control): a summary, a description, the 4xx of an /api route', () => {
    const broken = structuredClone(document);
    const operation = broken.paths['/api/v1/secrets/{key}'].get;
    delete operation.summary;
    delete operation.description;
    for (const status of Object.keys(operation.responses)) if (status.startsWith('4')) delete operation.responses[status];
    const brokenFile = join(work.dir, 'broken.json');
    writeFileSync(brokenFile, JSON.stringify(broken));
    expect(redocly(brokenFile).map((f) => f.rule).sort()).toEqual(['operation-summary', 'rule/api-operation-4xx-response']);
    expect(spectral(brokenFile).map((f) => f.rule)).toEqual(['operation-description']);
  }, 240_000);

  it('says what the issue asked: opaque bearer tokens, problem+json errors, integer versions, date-times, headers, public health', () => {
    const bearer = document.components.securitySchemes.bearer;
    expect(bearer.bearerFormat).toBeUndefined();
    expect(bearer.description).toMatch(/opaque/);

    const meta = document.components.schemas.SecretMetaDto.properties;
    expect(meta.version.type).toBe('integer');
    expect(meta.updatedAt).toEqual(expect.objectContaining({ type: 'string', format: 'date-time' }));

    const create = document.paths['/api/v1/secrets'].post.responses;
    expect(Object.keys(create['201'].headers ?? {}).sort()).toEqual(['ETag', 'Location']);
    expect(Object.keys(create['409'].content ?? {})).toEqual(['application/problem+json']);
    expect(Object.keys(create['429'].headers ?? {})).toEqual(['Retry-After']);
    expect(Object.keys(document.paths['/api/v1/secrets/{key}'].patch.responses['200'].headers ?? {})).toEqual(['ETag']);

    for (const path of ['/health', '/health/ready']) expect(document.paths[path].get.security).toEqual([]);
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (path.startsWith('/api/') && Number(status) >= 400) expect({ path, method, status, types: Object.keys(response.content ?? {}) }).toEqual({ path, method, status, types: ['application/problem+json'] });
          if (Number(status) < 300 && status !== '204') expect({ path, method, status, content: response.content !== undefined }).toEqual({ path, method, status, content: true });
        }
      }
    }
  });
});
