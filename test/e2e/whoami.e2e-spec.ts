import type { Role } from '../../src/auth/principal';
import { useTestApp } from '../support/test-app';

describe('GET /api/v1/whoami', () => {
  const t = useTestApp();

  it.each<Role>(['admin', 'auditor', 'executor'])('tells a %s token its own id, name and role, and nothing else', async (role) => {
    const issued = await (await t.request('/api/v1/tokens', { method: 'POST', json: { name: `${role}-self`, role } })).json();
    const res = await t.request('/api/v1/whoami', { token: issued.token });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({ id: issued.id, name: `${role}-self`, role });
    // Positive control for the search below: the token is in the issue response's own text.
    expect(JSON.stringify(issued)).toContain(issued.token);
    expect(body).not.toContain(issued.token);
  });

  it('is 401 for a revoked token, so a console session ends with it', async () => {
    const issued = await (await t.request('/api/v1/tokens', { method: 'POST', json: { name: 'gone', role: 'auditor' } })).json();
    expect((await t.request(`/api/v1/tokens/${issued.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await t.request('/api/v1/whoami', { token: issued.token })).status).toBe(401);
  });
});
