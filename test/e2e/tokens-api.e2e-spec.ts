import { TokensRepository } from '../../src/auth/tokens-repository';
import { expectEventually } from '../support/expect-eventually';
import { countRows, withRawDatabase } from '../support/raw-database';
import { ADMIN_TOKEN, useTestApp } from '../support/test-app';

describe('tokens API', () => {
  const t = useTestApp();
  const config = t.config;

  const issue = (json: unknown) => t.request('/api/v1/tokens', { method: 'POST', json });

  it('issues a token shown once, lists it without token or hash, and records TokenIssued', async () => {
    const res = await issue({ name: 'cvat-runner', role: 'executor', plugins: ['@voxel51/annotation'] });
    expect(res.status).toBe(201);
    const issued = await res.json();
    expect(issued).toEqual({
      id: expect.stringMatching(/^tok_/),
      name: 'cvat-runner',
      role: 'executor',
      plugins: ['@voxel51/annotation'],
      createdAt: expect.any(String),
      token: expect.stringMatching(/^slt_[A-Za-z0-9_-]{43}$/),
    });

    const listed = await (await t.request('/api/v1/tokens')).text();
    expect(listed).not.toContain(issued.token);
    const { items } = JSON.parse(listed);
    expect(items).toContainEqual({ id: issued.id, name: 'cvat-runner', role: 'executor', plugins: ['@voxel51/annotation'], createdAt: issued.createdAt, revokedAt: null, lastUsedAt: null });
    for (const item of items) expect(Object.keys(item).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'plugins', 'revokedAt', 'role']);

    const event = await withRawDatabase(config, (db) => db.get<{ data: string }>("SELECT data FROM events WHERE type = 'TokenIssued' AND stream = ?", [`token-${issued.id}`]));
    expect(JSON.parse(event!.data)).toEqual({ id: issued.id, name: 'cvat-runner', role: 'executor', plugins: ['@voxel51/annotation'], hashDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // The event binds the row's hash without holding the token or the hash itself (the control:
    // the same search finds the hash in the tokens row).
    const { token_hash: tokenHash } = (await withRawDatabase(config, (db) => db.get<{ token_hash: string }>('SELECT token_hash FROM tokens WHERE id = ?', [issued.id])))!;
    expect(tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(event!.data).not.toContain(issued.token);
    expect(event!.data).not.toContain(tokenHash);
  });

  it('lists when a token last authenticated, recorded at most once a minute (on every instance sharing the database), and null for one never used', async () => {
    const used = await (await issue({ name: 'busy-reader', role: 'auditor' })).json();
    const idle = await (await issue({ name: 'idle-reader', role: 'auditor' })).json();
    const lastUsed = async (id: string) => ((await (await t.request('/api/v1/tokens')).json()).items as { id: string; lastUsedAt: string | null }[]).find((item) => item.id === id)!.lastUsedAt;
    const stored = (id: string) => withRawDatabase(config, (db) => db.get<{ last_used_at: string | null }>('SELECT last_used_at FROM tokens WHERE id = ?', [id]));
    // Later writes queue behind the recording of earlier uses: once one is answered, those are in.
    const writeSomething = async () => expect((await issue({ name: 'sync-point', role: 'auditor' })).status).toBe(201);

    const before = new Date().toISOString();
    expect((await t.request('/api/v1/secrets', { token: used.token })).status).toBe(200);
    // Recorded off the request's path: the answer did not wait for it.
    await expectEventually(async () => expect(await lastUsed(used.id)).not.toBeNull());
    const first = (await lastUsed(used.id))!;
    expect(first >= before && first <= new Date().toISOString()).toBe(true);
    expect(await lastUsed(idle.id)).toBeNull();

    // Within the minute: uses are not written again, nor is a write even queued for them.
    const writes = jest.spyOn(t.app.get(TokensRepository), 'recordUse');
    try {
      for (let i = 0; i < 5; i++) expect((await t.request('/api/v1/secrets', { token: used.token })).status).toBe(200);
      expect(writes.mock.calls.length).toBe(0);
    } finally {
      writes.mockRestore();
    }
    await writeSomething();
    expect(await lastUsed(used.id)).toBe(first);

    // Once the time stored (by this instance or another) is over a minute old, the next use is written.
    const twoMinutesAgo = new Date(Date.now() - 120_000).toISOString();
    await withRawDatabase(config, (db) => db.run('UPDATE tokens SET last_used_at = ? WHERE id = ?', [twoMinutesAgo, used.id]));
    const again = new Date().toISOString();
    expect((await t.request('/api/v1/secrets', { token: used.token })).status).toBe(200);
    await expectEventually(async () => expect((await lastUsed(used.id))! >= again).toBe(true));
    // A refused token is not a use; the column holds a time and nothing of the token.
    expect((await t.request('/api/v1/secrets', { token: `${idle.token}x` })).status).toBe(401);
    await writeSomething();
    expect(await stored(idle.id)).toEqual({ last_used_at: null });
    expect(JSON.stringify(await stored(used.id))).not.toContain(used.token);
  });

  it('revocation takes effect on the very next request', async () => {
    const issued = await (await issue({ name: 'short-lived', role: 'auditor' })).json();
    expect((await t.request('/api/v1/secrets', { token: issued.token })).status).toBe(200);

    expect((await t.request(`/api/v1/tokens/${issued.id}`, { method: 'DELETE' })).status).toBe(204);
    const refused = await t.request('/api/v1/secrets', { token: issued.token });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);

    const { items } = await (await t.request('/api/v1/tokens')).json();
    expect(items.find((item: { id: string }) => item.id === issued.id).revokedAt).toEqual(expect.any(String));
    expect((await t.request(`/api/v1/tokens/${issued.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('refuses to revoke the last active admin token (409), and allows it once another exists', async () => {
    const { items } = await (await t.request('/api/v1/tokens')).json();
    const bootstrap = items.find((item: { name: string; revokedAt: string | null }) => item.name === 'bootstrap-admin' && item.revokedAt === null);
    const refused = await t.request(`/api/v1/tokens/${bootstrap.id}`, { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect((await t.request('/api/v1/secrets')).status).toBe(200);
    const second = await (await issue({ name: 'second-admin', role: 'admin' })).json();
    expect((await t.request(`/api/v1/tokens/${second.id}`, { method: 'DELETE', token: ADMIN_TOKEN })).status).toBe(204);
    expect((await t.request(`/api/v1/tokens/${bootstrap.id}`, { method: 'DELETE' })).status).toBe(409);
  });

  it('DELETE of an unknown id: 404', async () => {
    expect((await t.request('/api/v1/tokens/tok_nope', { method: 'DELETE' })).status).toBe(404);
  });

  it.each([
    ['no name', { role: 'auditor' }],
    ['an empty name', { name: '', role: 'auditor' }],
    ['a 101-character name', { name: 'n'.repeat(101), role: 'auditor' }],
    ['an unknown role', { name: 'x', role: 'root' }],
    ['plugins on an admin token', { name: 'x', role: 'admin', plugins: ['p'] }],
    ['plugins on an auditor token', { name: 'x', role: 'auditor', plugins: ['p'] }],
    ['an empty plugin list', { name: 'x', role: 'executor', plugins: [] }],
    ['101 plugins', { name: 'x', role: 'executor', plugins: Array.from({ length: 101 }, (_, i) => `p${i}`) }],
    ['an invalid plugin name', { name: 'x', role: 'executor', plugins: ['has space'] }],
    ['a non-string plugin', { name: 'x', role: 'executor', plugins: [7] }],
    ['an unknown field', { name: 'x', role: 'auditor', expires: '2030-01-01' }],
  ])('%s: 400 problem+json, nothing issued', async (_label, body) => {
    const rows = async () => ({ events: await countRows(config, 'events'), tokens: await countRows(config, 'tokens') });
    const before = await rows();
    const res = await issue(body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(await rows()).toEqual(before);
  });

  it('an executor token may omit plugins (any plugin) and the bootstrap admin is listed', async () => {
    const issued = await (await issue({ name: 'any-runner', role: 'executor' })).json();
    expect(issued.plugins).toBeNull();
    const { items } = await (await t.request('/api/v1/tokens', { token: ADMIN_TOKEN })).json();
    expect(items.map((item: { name: string }) => item.name)).toEqual(expect.arrayContaining(['bootstrap-admin', 'any-runner']));
  });
});
