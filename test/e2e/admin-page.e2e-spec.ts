import { JSDOM } from 'jsdom';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { expectEventually } from '../support/expect-eventually';
import { ADMIN_TOKEN, useTestApp } from '../support/test-app';

/**
 * The admin page as an admin uses it: the HTML the service serves at `/`, its script run by jsdom
 * against the real service (the page's `fetch` is Node's, sent to the app). What the page shows
 * is checked in its DOM, what it did through the API.
 */
describe('admin page', () => {
  const t = useTestApp();
  let page: JSDOM;
  let executor: string;

  const $ = <T extends HTMLElement = HTMLInputElement>(id: string) => page.window.document.getElementById(id) as T;
  const statusText = () => $('status').textContent ?? '';
  const rows = () =>
    [...page.window.document.querySelectorAll('#secrets tr')].map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent));
  const rowButton = (key: string, label: 'Change' | 'Remove') => {
    const row = [...page.window.document.querySelectorAll('#secrets tr')].find((tr) => tr.querySelector('code')?.textContent === key);
    const button = [...(row?.querySelectorAll('button') ?? [])].find((b) => b.textContent === label);
    if (!button) throw new Error(`no ${label} button for ${key}`);
    return button;
  };
  const fill = (fields: Record<string, string>) => Object.entries(fields).forEach(([id, value]) => ($(id).value = value));
  const save = () => $('editor').dispatchEvent(new page.window.Event('submit', { cancelable: true }));
  const resolved = async (key: string) => {
    const res = await t.request('/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'admin-page-test', keys: [key] } });
    return ((await res.json()) as { secrets: Record<string, string> }).secrets[key];
  };

  beforeAll(async () => {
    executor = (await t.app.get(TokensService).issue({ name: 'page-check', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
    const html = await (await t.request('/', { token: null })).text();
    page = new JSDOM(html, {
      url: t.baseUrl,
      runScripts: 'dangerously',
      beforeParse(window) {
        const base = t.baseUrl;
        window.fetch = ((input: string, init?: RequestInit) => fetch(new URL(input, base), init)) as typeof window.fetch;
        window.confirm = () => true;
      },
    });
  });
  afterAll(() => page.window.close());

  it('loads the secrets with the admin token, keeping the token out of the field', async () => {
    fill({ token: ADMIN_TOKEN });
    $('connect').click();
    await expectEventually(() => expect(statusText()).toBe('Loaded 0 secret(s).'));
    expect($('token').value).toBe('');
    expect(rows()).toEqual([['No secrets yet.']]);
  });

  it('adds a secret: listed with its description and version 1, the value stored and nowhere on the page', async () => {
    fill({ key: 'PAGE_CVAT_TOKEN', value: 'page-plaintext-v1-5c2e', description: 'CVAT API token' });
    save();
    await expectEventually(() => expect(statusText()).toBe('Loaded 1 secret(s).'));
    expect(rows()).toEqual([['PAGE_CVAT_TOKEN', 'CVAT API token', '1']]);
    expect(await resolved('PAGE_CVAT_TOKEN')).toBe('page-plaintext-v1-5c2e');
    expect(page.serialize()).not.toContain('page-plaintext');
    expect($('value').value).toBe('');
  });

  it('shows the service’s refusal, and changes nothing, when the key already exists', async () => {
    fill({ key: 'PAGE_CVAT_TOKEN', value: 'page-plaintext-dup-0000' });
    save();
    await expectEventually(() => expect($('status').className).toBe('error'));
    expect(statusText()).toMatch(/already exists/);
    expect(await resolved('PAGE_CVAT_TOKEN')).toBe('page-plaintext-v1-5c2e');
  });

  it('changes a secret through its row, sending the version it showed', async () => {
    $('clear').click();
    rowButton('PAGE_CVAT_TOKEN', 'Change').click();
    expect($('key').readOnly).toBe(true);
    expect($('description').value).toBe('CVAT API token');
    fill({ value: 'page-plaintext-v2-77d0' });
    save();
    await expectEventually(() => expect(rows()).toEqual([['PAGE_CVAT_TOKEN', 'CVAT API token', '2']]));
    expect(await resolved('PAGE_CVAT_TOKEN')).toBe('page-plaintext-v2-77d0');

    // Someone else changes it after the page listed it: the page's stale version is refused.
    rowButton('PAGE_CVAT_TOKEN', 'Change').click();
    expect((await t.request('/api/v1/secrets/PAGE_CVAT_TOKEN', { method: 'PATCH', json: { value: 'changed-elsewhere' } })).status).toBe(200);
    fill({ value: 'page-plaintext-v3-stale' });
    save();
    await expectEventually(() => expect($('status').className).toBe('error'));
    expect(statusText()).toMatch(/version/i);
    expect(await resolved('PAGE_CVAT_TOKEN')).toBe('changed-elsewhere');
  });

  it('removes a secret through its row', async () => {
    $('clear').click();
    $('connect').click(); // with the field empty: a reload with the token held, now showing version 3
    await expectEventually(() => expect(rows()).toEqual([['PAGE_CVAT_TOKEN', 'CVAT API token', '3']]));
    rowButton('PAGE_CVAT_TOKEN', 'Remove').click();
    await expectEventually(() => expect(rows()).toEqual([['No secrets yet.']]));
    expect((await t.request('/api/v1/secrets/PAGE_CVAT_TOKEN')).status).toBe(404);
    expect(page.serialize()).not.toContain('plaintext');
  });
});
