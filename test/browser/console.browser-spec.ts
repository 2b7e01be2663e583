import { parse } from 'csv-parse/sync';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { CheckpointWriter } from '../../src/checkpoints/checkpoint-writer';
import { SigningKey } from '../../src/checkpoints/signing-key';
import { EventStore } from '../../src/event-store/event-store';
import { STORAGE, type Storage } from '../../src/storage/sql';
import { SecretsService } from '../../src/secrets/secrets.service';
import { type Browser, type PageRecord, exposed, launchChromium, seriousAccessibilityViolations, watchPage } from '../support/browser';
import { expectEventually } from '../support/expect-eventually';
import { ADMIN_TOKEN, useTestApp } from '../support/test-app';

jest.setTimeout(60_000);

/** `CONSOLE_SCREENSHOTS=1` refreshes docs/CONSOLE.md's pictures in docs/ from this run. */
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS === '1' ? join(__dirname, '../../docs') : undefined;

const KEY = 'CONSOLE_CVAT_TOKEN';
/** Every plaintext this suite stores: none may ever be on a page, in storage or in a URL. */
const VALUES = ['console-plaintext-v1-4f1c', 'console-plaintext-api-9a0e', 'console-plaintext-seed-77b2', 'console-plaintext-seed-13d5', 'console-plaintext-seed-c0d9', 'console-plaintext-bulk-5e8a'];
const TOO_LONG = 'ø'.repeat(40_000); // 80,000 bytes: the server's limit, not the form's

/**
 * The console as people use it, in headless Chromium against the real service: an admin's whole
 * round, then an auditor's and an executor's. Besides what each step shows, every step checks
 * that no value and no token (other than one just issued, while it is shown) is on the page, and
 * the suite ends by checking every URL the pages used and that they logged no error or CSP
 * violation.
 */
describe('the admin console in a real browser', () => {
  const t = useTestApp();
  let browser: Browser;
  let executorToken: string;
  let auditorToken: string;
  const records: PageRecord[] = [];
  /** Tokens that may never be exposed; a token the console issues joins once it is hidden. */
  const tokens = [ADMIN_TOKEN];

  const open = async (): Promise<Page> => {
    const page = await browser.context.newPage();
    records.push(await watchPage(page));
    await page.goto(t.baseUrl);
    return page;
  };
  const statusOf = (page: Page) => page.locator('#status').innerText();
  const expectStatus = (page: Page, pattern: RegExp) => expectEventually(async () => expect(await statusOf(page)).toMatch(pattern));
  const rowOf = (page: Page, key: string) => page.locator(`#secrets-table tbody tr[data-key="${key}"]`);
  const cells = (page: Page, key: string) => rowOf(page, key).locator('th, td').allInnerTexts();
  // textContent, not innerText: innerText spaces out the visually hidden part of a name (", sorted
  // ascending") only once the stylesheet has laid it out, so the same button read two ways.
  /** Every <button>'s text (a file input is a button too, with no text: what it reads is checked apart). */
  const buttonNames = (page: Page) => page.locator('button').evaluateAll((buttons) => buttons.map((b) => (b.textContent ?? '').replace(/\s+/g, ' ').trim()));

  const expectNothingExposed = async (page: Page, allowed: string[] = []) => {
    const seen = await exposed(page);
    for (const secret of [...VALUES, TOO_LONG, ...tokens, auditorToken, executorToken].filter((s) => !allowed.includes(s))) expect(seen).not.toContain(secret);
  };
  /**
   * axe finds no serious or critical violation at a laptop's width and at a narrow window's, and
   * the page never scrolls sideways there (a wide table scrolls inside its own box). Ends at the
   * suite's usual width.
   */
  const expectAccessible = async (page: Page) => {
    const { height } = page.viewportSize() ?? { height: 860 };
    for (const width of [760, 1280]) {
      await page.setViewportSize({ width, height });
      expect({ width, violations: await seriousAccessibilityViolations(page) }).toEqual({ width, violations: [] });
      const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect({ width, sideways }).toEqual({ width, sideways: 0 });
    }
  };
  /** An empty status line takes no room and draws nothing (no grey bar above every view). */
  const expectNoEmptyStatusBar = async (page: Page) => {
    const status = page.locator('#status');
    expect(await status.innerText()).toBe('');
    expect(await status.evaluate((element) => [element.getBoundingClientRect().height, getComputedStyle(element).backgroundColor])).toEqual([0, 'rgba(0, 0, 0, 0)']);
  };
  const screenshot = async (page: Page, name: string) => {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
  };
  const signIn = async (page: Page, token: string) => {
    await page.getByLabel('Token').fill(token);
    // Positive control for every later search: a token in a field is found.
    expect(await exposed(page)).toContain(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  const resolved = async (key: string) => {
    const res = await t.request('/api/v1/resolve', { method: 'POST', token: executorToken, json: { plugin: 'console-test', keys: [key] } });
    return ((await res.json()) as { secrets: Record<string, string> }).secrets[key];
  };

  beforeAll(async () => {
    browser = await launchChromium();
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.baseUrl });
    const issue = (name: string, role: 'executor' | 'auditor') => t.app.get(TokensService).issue({ name, role, plugins: null }, SYSTEM_ACTOR);
    executorToken = (await issue('console-check', 'executor')).token;
    auditorToken = (await issue('reviewer', 'auditor')).token;
    const seeds = [
      ['FIFTYONE_CVAT_URL', 'The CVAT server plugins annotate with'],
      ['FIFTYONE_LABELBOX_API_KEY', 'Labelbox export plugin'],
      ['S3_EXPORT_SECRET', ''],
    ];
    for (const [index, [key, description]] of seeds.entries()) {
      const res = await t.request('/api/v1/secrets', { method: 'POST', json: { key, value: VALUES[2 + index], ...(description ? { description } : {}) } });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe('as an admin', () => {
    let page: Page;
    beforeAll(async () => {
      page = await open();
    });

    it('signs in with a pasted token, which leaves the page and is kept only in sessionStorage', async () => {
      await expectNoEmptyStatusBar(page);
      await expectAccessible(page);
      await signIn(page, ADMIN_TOKEN);
      await expectStatus(page, /^Signed in as bootstrap-admin \(admin\)\.$/);
      await rowOf(page, 'FIFTYONE_CVAT_URL').waitFor();
      await expectNothingExposed(page);
      expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([ADMIN_TOKEN]);
      expect(await page.evaluate(() => localStorage.length)).toBe(0);
      await expectAccessible(page);
    });

    it('refuses an invalid key beside the field as it is typed, and sends nothing', async () => {
      await page.getByRole('button', { name: 'Add secret' }).click();
      const key = page.getByLabel('Key', { exact: true });
      await key.fill('my_key');
      expect(await key.getAttribute('aria-invalid')).toBe('true');
      const errorId = (await key.getAttribute('aria-describedby'))?.split(' ').find((id) => id.endsWith('-error'));
      expect(await page.locator(`#${errorId}`).innerText()).toMatch(/^my_key is not a valid key\. Upper snake case/);
      await page.getByLabel('Value', { exact: true }).fill(VALUES[0]);
      expect(await exposed(page)).toContain(VALUES[0]);
      await page.getByRole('button', { name: 'Add secret' }).last().click();
      await expectStatus(page, /^The secret was not added: correct the fields marked/);
      expect(await page.getByLabel('Value', { exact: true }).inputValue()).toBe('');
      expect((await (await t.request('/api/v1/secrets')).json()).items.map((s: { key: string }) => s.key)).not.toContain('my_key');
      await expectAccessible(page);
    });

    it('shows the server’s field error beside the field it names, and clears the refused value', async () => {
      await page.getByLabel('Key', { exact: true }).fill(KEY);
      expect(await page.getByLabel('Key', { exact: true }).getAttribute('aria-invalid')).toBeNull();
      await page.getByLabel('Value', { exact: true }).fill(TOO_LONG);
      await page.getByRole('button', { name: 'Add secret' }).last().click();
      await expectStatus(page, /^CONSOLE_CVAT_TOKEN was not added: .*enter the value again\.$/);
      const value = page.getByLabel('Value', { exact: true });
      expect(await value.getAttribute('aria-invalid')).toBe('true');
      const errorId = (await value.getAttribute('aria-describedby'))?.split(' ').find((id) => id.endsWith('-error'));
      expect(await page.locator(`#${errorId}`).innerText()).toBe('Value must be at most 65536 bytes of UTF-8 (got 80000).');
      expect(await value.inputValue()).toBe('');
      expect((await t.request(`/api/v1/secrets/${KEY}`)).status).toBe(404);
    });

    it('adds a secret: listed with its description and version 1, the value stored and nowhere on the page', async () => {
      await page.getByLabel('Value', { exact: true }).fill(VALUES[0]);
      await page.getByLabel('Description').fill('CVAT API token');
      await page.getByRole('button', { name: 'Add secret' }).last().click();
      await expectStatus(page, /^Added CONSOLE_CVAT_TOKEN \(version 1\)\./);
      expect((await cells(page, KEY)).slice(0, 3)).toEqual([KEY, 'CVAT API token', '1']);
      expect(await resolved(KEY)).toBe(VALUES[0]);
      await expectNothingExposed(page);
    });

    it('stores a PEM key and a JSON credential byte for byte, typed or loaded from a file, masked and counted in its field', async () => {
      const key = 'CONSOLE_SERVICE_ACCOUNT';
      // Fresh per run: an Ed25519 key in PKCS #8 PEM is three lines and a final line break.
      const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      const json = `${JSON.stringify({ type: 'service_account', private_key: pem, client_email: 'läufer-✓@example.iam', note: 'ends with spaces   ' }, null, 2)}\n`;
      expect(pem.split('\n')).toHaveLength(4);
      const legacyDescription = 'Service account for exports,\nkept since the first release';
      const utf8 = (text: string) => `${Buffer.byteLength(text, 'utf8').toLocaleString('en')} bytes of UTF-8`;
      const cases = [
        { text: pem, count: `3 lines, ${utf8(pem)}, ending with a line break.` },
        { text: json, count: `6 lines, ${utf8(json)}, ending with a line break.` },
        // From files as other tools write them: CR LF line ends (which a text field would turn
        // into LF), a byte-order mark, trailing spaces and no final line break.
        { text: pem.replace(/\n/g, '\r\n'), file: 'key.pem', count: `From key.pem: 3 lines, ${utf8(pem.replace(/\n/g, '\r\n'))}, ending with a line break.` },
        { text: `\uFEFF${json.trimEnd()}  `, file: 'credentials.json', count: `From credentials.json: 6 lines, ${utf8(`\uFEFF${json.trimEnd()}  `)}.` },
      ];
      VALUES.push(...cases.map((c) => c.text));
      for (const [index, { text, file, count }] of cases.entries()) {
        const adding = index === 0;
        await page.getByRole('button', { name: adding ? 'Add secret' : `Change ${key}` }).click();
        if (adding) await page.getByLabel('Key', { exact: true }).fill(key);
        const value = page.getByLabel(adding ? 'Value' : 'New value', { exact: true });
        const counter = async () => page.locator(`#${(await value.getAttribute('aria-describedby'))?.split(' ').find((id) => id.startsWith('value-count'))}`).innerText();
        const masking = () => value.evaluate((field) => getComputedStyle(field).getPropertyValue('-webkit-text-security'));
        expect(await masking()).toBe('disc');
        expect(await value.inputValue()).toBe('');
        expect(await counter()).toBe('Empty.');
        if (file) {
          await page.getByLabel('Or load it from a file').setInputFiles({ name: file, mimeType: 'text/plain', buffer: Buffer.from(text, 'utf8') });
          await expectEventually(async () => expect(await counter()).toBe(count));
          // A loaded file's text is never put on the page, not even in the (disabled) field.
          expect(await value.isDisabled()).toBe(true);
          expect(await exposed(page)).not.toContain(pem.split('\n')[1]);
        } else {
          await value.fill(text);
          expect(await value.inputValue()).toBe(text);
          expect(await exposed(page)).toContain(text);
          expect(await counter()).toBe(count);
          expect(await masking()).toBe('disc');
          await page.getByLabel('Show the value').check();
          expect(await masking()).toBe('none');
        }
        expect(await page.getByRole('button', { name: 'Type the value instead' }).count()).toBe(file ? 1 : 0);
        await expectAccessible(page);
        await page.getByRole('button', { name: adding ? 'Add secret' : 'Save changes' }).last().click();
        // Only the value changes: the one-line description field leaves a stored description
        // that holds a line break alone.
        await expectStatus(page, adding ? new RegExp(`^Added ${key} \\(version 1\\)\\.`) : new RegExp(`^Changed the value of ${key} \\(now version ${index + 2}\\)\\.$`));
        const stored = await resolved(key);
        expect(Buffer.from(stored, 'utf8').equals(Buffer.from(text, 'utf8'))).toBe(true);
        await expectNothingExposed(page);
        if (adding) {
          // A description stored before the API refused line breaks in one.
          await t.app.get(SecretsService).execute({ type: 'UpdateSecret', key, description: legacyDescription }, SYSTEM_ACTOR);
          await expectEventually(async () => expect((await cells(page, key))[2]).toBe('2'));
        }
      }
      expect((await (await t.request(`/api/v1/secrets/${key}`)).json()).description).toBe(legacyDescription);
      // The next form starts masked again, its "Show" unticked.
      await page.getByRole('button', { name: `Change ${key}` }).click();
      const value = page.getByLabel('New value', { exact: true });
      expect(await value.evaluate((field) => getComputedStyle(field).getPropertyValue('-webkit-text-security'))).toBe('disc');
      expect(await page.getByLabel('Show the value').isChecked()).toBe(false);
      // A loaded file can be set aside to type instead.
      await page.getByLabel('Or load it from a file').setInputFiles({ name: 'key.pem', mimeType: 'text/plain', buffer: Buffer.from(pem, 'utf8') });
      await expectEventually(async () => expect(await value.isDisabled()).toBe(true));
      await page.getByRole('button', { name: 'Type the value instead' }).click();
      expect(await value.isDisabled()).toBe(false);
      expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('value');
      // A file that is not UTF-8 text is refused beside the field, not decoded with replacements.
      await page.getByLabel('Or load it from a file').setInputFiles({ name: 'key.der', mimeType: 'application/octet-stream', buffer: Buffer.from([0x30, 0x82, 0xff, 0xfe, 0x0a]) });
      await expectEventually(async () => expect(await value.getAttribute('aria-invalid')).toBe('true'));
      const errorId = (await value.getAttribute('aria-describedby'))?.split(' ').find((id) => id.endsWith('-error'));
      expect(await page.locator(`#${errorId}`).innerText()).toBe('key.der is not UTF-8 text: a value is text. Encode binary data (base64, for example) and load that.');
      expect(await value.isDisabled()).toBe(false);
      await page.getByRole('button', { name: 'Cancel' }).click();
      expect(await resolved(key)).toBe(cases[cases.length - 1].text);
      expect((await t.request(`/api/v1/secrets/${key}`, { method: 'DELETE' })).status).toBe(204);
      await expectEventually(async () => expect(await rowOf(page, key).count()).toBe(0));
    });

    it('changes the description through the row’s button, and says so until the next action', async () => {
      await page.getByRole('button', { name: `Change ${KEY}` }).click();
      expect(await page.getByLabel('Description').inputValue()).toBe('CVAT API token');
      expect(await page.getByLabel('New value').inputValue()).toBe('');
      await page.getByLabel('Description').fill('CVAT API token (annotation plugins)');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await expectStatus(page, /^Changed the description of CONSOLE_CVAT_TOKEN \(now version 2\)\.$/);
      expect((await cells(page, KEY)).slice(0, 3)).toEqual([KEY, 'CVAT API token (annotation plugins)', '2']);
      expect(await resolved(KEY)).toBe(VALUES[0]);
      await screenshot(page, 'secrets');
    });

    it('shows a change made through the API without a reload, keeping the status line', async () => {
      await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
      const res = await t.request(`/api/v1/secrets/${KEY}`, { method: 'PATCH', json: { value: VALUES[1], description: 'changed elsewhere' } });
      expect(res.status).toBe(200);
      await expectEventually(async () => expect((await cells(page, KEY)).slice(0, 3)).toEqual([KEY, 'changed elsewhere', '3']));
      expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
      expect(await statusOf(page)).toMatch(/^Changed the description of CONSOLE_CVAT_TOKEN/);
    });

    it('follows the change stream: a change made elsewhere is on the page within a second, and the secrets view never asks /audit/head', async () => {
      const watcher = await open();
      const asked: string[] = [];
      watcher.on('request', (request) => asked.push(new URL(request.url()).pathname));
      // The stream starts at the head: the change is made once its answer has begun.
      const streaming = watcher.waitForResponse((response) => new URL(response.url()).pathname === '/api/v1/changes');
      await signIn(watcher, ADMIN_TOKEN);
      await rowOf(watcher, 'S3_EXPORT_SECRET').waitFor();
      expect((await streaming).status()).toBe(200);

      const description = `changed while watched ${Date.now()}`;
      expect((await t.request('/api/v1/secrets/S3_EXPORT_SECRET', { method: 'PATCH', json: { description } })).status).toBe(200);
      const acknowledged = Date.now();
      await watcher.waitForFunction((text) => document.querySelector('#secrets-table tbody tr[data-key="S3_EXPORT_SECRET"]')?.textContent?.includes(text) === true, description);
      expect(Date.now() - acknowledged).toBeLessThan(1_000);
      // Longer than the head poll's period (2 s), which the audit and tokens views alone keep.
      await watcher.waitForTimeout(2_500);
      expect(asked.filter((path) => path === '/api/v1/audit/head')).toEqual([]);
      // Positive control, and the change came on the stream first opened, not a reconnect.
      expect(asked.filter((path) => path === '/api/v1/changes')).toEqual(['/api/v1/changes']);
      await watcher.close();
    });

    it('explains a stale edit in plain words and shows the secret as it is now', async () => {
      await page.getByRole('button', { name: `Change ${KEY}` }).click();
      await t.request(`/api/v1/secrets/${KEY}`, { method: 'PATCH', json: { description: 'changed again elsewhere' } });
      await page.getByLabel('Description').fill('my edit of version 3');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await expectStatus(page, /^Your change was not saved: CONSOLE_CVAT_TOKEN was changed by bootstrap-admin at .* while you were editing \(you had version 3, it is now version 4\)\./);
      expect(await statusOf(page)).not.toMatch(/secret-|not 3/);
      expect((await cells(page, KEY)).slice(0, 3)).toEqual([KEY, 'changed again elsewhere', '4']);
      expect(await page.getByLabel('Description').inputValue()).toBe('changed again elsewhere');
      await page.getByRole('button', { name: 'Cancel' }).click();
      await expectAccessible(page);
    });

    it('shows the history of the secret: per version what changed (value yes/no, description before → after), actor and time', async () => {
      // A new value with the description left alone (the same value, so later steps resolve it).
      await t.request(`/api/v1/secrets/${KEY}`, { method: 'PATCH', json: { value: VALUES[1] } });
      await page.getByRole('link', { name: `History of ${KEY}` }).click();
      await page.getByRole('heading', { name: `History of ${KEY}` }).waitFor();
      await expectNoEmptyStatusBar(page);
      const rows = page.locator('#history-table tbody tr');
      await expectEventually(async () => expect(await rows.count()).toBe(5));
      const table = await rows.evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => (c as HTMLElement).innerText)));
      expect(table.map((r) => [r[0], r[1], r[3], r[4], r[5]])).toEqual([
        ['1', 'Added (SecretAdded)', 'bootstrap-admin (admin)', 'set', '“CVAT API token”'],
        ['2', 'Changed (SecretUpdated)', 'bootstrap-admin (admin)', 'unchanged', '“CVAT API token” → “CVAT API token (annotation plugins)”'],
        ['3', 'Changed (SecretUpdated)', 'bootstrap-admin (admin)', 'changed', '“CVAT API token (annotation plugins)” → “changed elsewhere”'],
        ['4', 'Changed (SecretUpdated)', 'bootstrap-admin (admin)', 'unchanged', '“changed elsewhere” → “changed again elsewhere”'],
        ['5', 'Changed (SecretUpdated)', 'bootstrap-admin (admin)', 'changed', 'unchanged: “changed again elsewhere”'],
      ]);
      // The value column agrees with what the log recorded for each update.
      const updates = (await (await t.request(`/api/v1/audit?key=${KEY}&type=SecretUpdated`)).json()).items as { version: number; data: { valueChanged: boolean } }[];
      expect(updates.map((u) => [String(u.version), u.data.valueChanged ? 'changed' : 'unchanged'])).toEqual(table.slice(1).map((r) => [r[0], r[4]]));
      await expectAccessible(page);
      await expectNothingExposed(page);
    });

    it('shows on the History page who holds which version: an old one marked, stale a minute after the change, current once refreshed', async () => {
      const row = page.locator('#consumers-table tbody tr[data-token="console-check"]');
      const shown = async () => (await row.locator('th, td').allInnerTexts()).map((text) => text.trim());
      const held = async () => ((await (await t.request(`/api/v1/secrets/${KEY}/consumers`)).json()).items as { tokenName: string; version: number; current: boolean }[]).find((c) => c.tokenName === 'console-check')!;
      // console-check last resolved before the value changed.
      const before = await held();
      expect(before.current).toBe(false);
      await expectEventually(async () => expect(await shown()).toEqual([expect.stringMatching(/^console-check \(tok_/), 'console-test', String(before.version), expect.stringMatching(/UTC$/), 'Old version']));

      // A minute after the change it is stale. The service's clock (only Date) moves on; the view is opened again.
      jest.useFakeTimers({ advanceTimers: true, doNotFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask', 'hrtime', 'performance'] });
      try {
        jest.setSystemTime(Date.now() + 61_000);
        await page.getByRole('link', { name: '← All secrets' }).click();
        await page.getByRole('link', { name: `History of ${KEY}` }).click();
        await expectEventually(async () => expect((await shown())[4]).toBe('Stale: an old version, over a minute after the change'));
      } finally {
        jest.useRealTimers();
      }
      expect(await row.getAttribute('class')).toContain('stale');

      // It refreshes (the view follows the log without a reload): current, at the latest version.
      expect(await resolved(KEY)).toBe(VALUES[1]);
      await expectEventually(async () => expect((await shown()).slice(2)).toEqual([String((await held()).version), expect.stringMatching(/UTC$/), 'Current']));
      await expectAccessible(page);
      await expectNothingExposed(page);
    });

    it('rolls back to version 1 and destroys it from the history, each after a confirmation, the destroy saying it cannot be undone', async () => {
      const row = (version: number) => page.locator(`table tbody tr[data-version="${version}"]`);
      const rowButtons = (version: number) => row(version).getByRole('button').allInnerTexts();
      // The current version offers neither; an older value offers both.
      expect(await rowButtons(5)).toEqual([]);
      expect(await row(1).getByRole('button').count()).toBe(2);

      await page.getByRole('button', { name: `Roll back ${KEY} to version 1` }).click();
      const rollbackDialog = page.getByRole('dialog', { name: `Roll ${KEY} back to version 1?` });
      expect(await rollbackDialog.innerText()).toContain('never shown here');
      await rollbackDialog.getByRole('button', { name: 'Roll back to version 1' }).click();
      await expectStatus(page, new RegExp(`^Rolled ${KEY} back to version 1’s value, as version 6\\.$`));
      await expectEventually(async () => expect(await row(6).locator('td').allInnerTexts()).toEqual(expect.arrayContaining(['Rolled back (SecretRolledBack)', 'version 1’s'])));
      expect(await resolved(KEY)).toBe(VALUES[0]);

      await page.getByRole('button', { name: `Destroy version 1 of ${KEY}` }).click();
      const destroyDialog = page.getByRole('dialog', { name: `Destroy version 1 of ${KEY}?` });
      expect(await destroyDialog.innerText()).toMatch(/This cannot be undone\. The value version 1 sealed can never be read, resolved or rolled back to again/);
      await destroyDialog.getByRole('button', { name: 'Cancel' }).click();
      await expectStatus(page, new RegExp(`^Version 1 of ${KEY} was not destroyed\\.$`));
      await page.getByRole('button', { name: `Destroy version 1 of ${KEY}` }).click();
      await destroyDialog.getByRole('button', { name: 'Destroy version 1' }).click();
      await expectStatus(page, new RegExp(`^Destroyed the value of version 1 of ${KEY}\\. It can never be opened again\\.$`));
      // Version 2 changed only the description: the value it held was version 1's, destroyed with it.
      await expectEventually(async () => expect(await row(1).locator('td').nth(3).innerText()).toMatch(/^set; destroyed .+ by bootstrap-admin$/));
      expect(await row(2).locator('td').nth(3).innerText()).toMatch(/^unchanged; destroyed /);
      expect(await rowButtons(1)).toEqual([]);
      expect(await rowButtons(2)).toEqual([]);
      const history = (await (await t.request(`/api/v1/secrets/${KEY}/history`)).json()).items as { version: number; destroyed?: object }[];
      expect(history.filter((entry) => entry.destroyed).map((entry) => entry.version)).toEqual([1, 2]);

      // Back to the value later steps resolve (version 3's).
      await page.getByRole('button', { name: `Roll back ${KEY} to version 3` }).click();
      await page.getByRole('dialog', { name: `Roll ${KEY} back to version 3?` }).getByRole('button', { name: 'Roll back to version 3' }).click();
      await expectStatus(page, new RegExp(`^Rolled ${KEY} back to version 3’s value, as version 7\\.$`));
      expect(await resolved(KEY)).toBe(VALUES[1]);
      await expectAccessible(page);
      await expectNothingExposed(page);
    });

    it('sets an expiry in the form; the list marks the secret expired, and the mark goes when the expiry is cleared', async () => {
      const key = 'S3_EXPORT_SECRET';
      await page.getByRole('link', { name: '← All secrets' }).click();
      await rowOf(page, key).waitFor();
      await page.getByRole('button', { name: `Change ${key}` }).click();
      await page.getByLabel('Expires at').fill('2020-01-01T00:00:00+00:00');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await expectStatus(page, new RegExp(`^Changed the expiry of ${key} \\(now version \\d+\\)\\.$`));
      await expectEventually(async () => expect((await cells(page, key))[0]).toBe(`${key} Expired 2020-01-01 00:00:00 UTC`));
      expect(await rowOf(page, key).locator('.expiry.expired').count()).toBe(1);
      expect(await (await t.request(`/api/v1/secrets/${key}`)).json()).toMatchObject({ expiresAt: '2020-01-01T00:00:00.000Z', expiry: 'expired' });
      await expectAccessible(page);

      await page.getByRole('button', { name: `Change ${key}` }).click();
      expect(await page.getByLabel('Expires at').inputValue()).toBe('2020-01-01T00:00:00.000Z');
      await page.getByLabel('Expires at').fill('');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await expectStatus(page, new RegExp(`^Changed the expiry of ${key} `));
      await expectEventually(async () => expect((await cells(page, key))[0]).toBe(key));
      expect(await (await t.request(`/api/v1/secrets/${key}`)).json()).not.toHaveProperty('expiresAt');
    });

    it('issues an executor token shown once with a copy button, then hides it', async () => {
      await page.getByRole('link', { name: 'Tokens' }).click();
      await page.getByRole('heading', { name: 'Tokens', exact: true }).waitFor();
      await expectNoEmptyStatusBar(page);
      await page.getByLabel('Name').fill('cvat-runner');
      await page.getByLabel('Role').selectOption('executor');
      // The CLI's rule (listedPlugins): commas or spaces, a repeat dropped.
      await page.getByLabel('Plugins').fill('console-test cvat,, console-test');
      await page.getByRole('button', { name: 'Issue token' }).click();
      await expectStatus(page, /^Issued the executor token cvat-runner\. Copy it now: it will not be shown again\.$/);
      const issued = await page.getByLabel('Token', { exact: true }).inputValue();
      expect(issued).toMatch(/^slt_/);
      expect(await page.getByText('it will not be shown again', { exact: false }).count()).toBeGreaterThan(0);
      expect(await (await t.request('/api/v1/resolve', { method: 'POST', token: issued, json: { plugin: 'cvat', keys: [KEY] } })).json()).toMatchObject({ secrets: { [KEY]: VALUES[1] } });

      await page.getByRole('button', { name: 'Copy token' }).click();
      await expectStatus(page, /^Copied the token to the clipboard\.$/);
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(issued);
      await expectAccessible(page);
      await expectNothingExposed(page, [issued]);

      await page.getByRole('button', { name: 'Done, hide the token' }).click();
      tokens.push(issued);
      await expectNothingExposed(page);
      const row = page.locator('tbody tr', { hasText: 'cvat-runner' });
      expect((await row.locator('th, td:not(.token-id)').allInnerTexts()).slice(0, 3)).toEqual(['cvat-runner', 'executor', 'console-test, cvat']);
      expect(await row.locator('td.token-id code').innerText()).toMatch(/^tok_/);
      await screenshot(page, 'tokens');
    });

    it('revokes the executor token after confirmation, with immediate effect', async () => {
      const issued = tokens[tokens.length - 1];
      await page.getByRole('button', { name: 'Revoke cvat-runner' }).click();
      const dialog = page.getByRole('dialog', { name: 'Revoke cvat-runner?' });
      await dialog.waitFor();
      await expectAccessible(page);
      await dialog.getByRole('button', { name: 'Revoke cvat-runner' }).click();
      await expectStatus(page, /^Revoked the executor token cvat-runner\.$/);
      expect((await t.request('/api/v1/resolve', { method: 'POST', token: issued, json: { plugin: 'cvat', keys: [KEY] } })).status).toBe(401);
      await expectEventually(async () => expect(await page.locator('tbody tr', { hasText: 'cvat-runner' }).locator('td').nth(4).innerText()).toMatch(/^revoked /));
      expect(await page.getByRole('button', { name: 'Revoke cvat-runner' }).count()).toBe(0);
    });

    it('refuses to revoke the last admin token with the server’s explanation, in view however far the list is scrolled', async () => {
      for (let n = 1; n <= 30; n++) tokens.push((await t.app.get(TokensService).issue({ name: `runner-${n}`, role: 'executor', plugins: null }, SYSTEM_ACTOR)).token);
      await expectEventually(async () => expect(await page.locator('tbody tr').count()).toBe(34));
      // The admin's row in the middle of the window: the view's heading, and the status line's
      // place above it, are scrolled away.
      await page.locator('tbody tr', { hasText: 'bootstrap-admin' }).evaluate((row) => row.scrollIntoView({ block: 'center' }));
      const headingBottom = () => page.getByRole('heading', { name: 'Tokens', exact: true }).evaluate((heading) => heading.getBoundingClientRect().bottom);
      expect(await headingBottom()).toBeLessThan(0);
      await page.getByRole('button', { name: 'Revoke bootstrap-admin' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke bootstrap-admin' }).click();
      await expectStatus(page, /^bootstrap-admin was not revoked: This is the last active admin token: issue another admin token before revoking it\.$/);
      // Within the window and not covered by anything: what is drawn at its centre is the message.
      const result = page.getByText(/^bootstrap-admin was not revoked/);
      expect(
        await result.evaluate((element) => {
          const box = element.getBoundingClientRect();
          const atCentre = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
          return box.top >= 0 && box.bottom <= window.innerHeight && atCentre !== null && element.contains(atCentre);
        }),
      ).toBe(true);
      expect(await headingBottom()).toBeLessThan(0);
      expect((await t.request('/api/v1/tokens')).status).toBe(200);
    });

    it('removes the secret after confirmation', async () => {
      await page.getByRole('link', { name: 'Secrets' }).click();
      await page.getByRole('button', { name: `Remove ${KEY}` }).click();
      const dialog = page.getByRole('dialog', { name: `Remove ${KEY}?` });
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await expectStatus(page, /^CONSOLE_CVAT_TOKEN was not removed\.$/);
      await page.getByRole('button', { name: `Remove ${KEY}` }).click();
      await dialog.getByRole('button', { name: `Remove ${KEY}` }).click();
      await expectStatus(page, /^Removed CONSOLE_CVAT_TOKEN\./);
      expect(await rowOf(page, KEY).count()).toBe(0);
      expect((await t.request(`/api/v1/secrets/${KEY}`)).status).toBe(404);
    });

    it('lists the removed secrets on request, each with its history', async () => {
      const live = new Set(((await (await t.request('/api/v1/secrets')).json()).items as { key: string }[]).map((s) => s.key));
      const removals = (await (await t.request('/api/v1/audit?type=SecretRemoved&order=desc&limit=1000')).json()).items as { key: string }[];
      const expected = [...new Set(removals.map((r) => r.key).filter((key) => !live.has(key)))];
      expect(expected).toContain(KEY);
      const removedKeys = () => page.locator('#removed-table tbody tr th').allInnerTexts();
      expect(await page.locator('#removed-table').isVisible()).toBe(false);
      await page.getByText('Removed secrets', { exact: true }).click();
      await expectEventually(async () => expect(await removedKeys()).toEqual(expected));
      await expectAccessible(page);
      await page.getByRole('link', { name: `History of ${KEY}` }).click();
      await page.getByRole('heading', { name: `History of ${KEY}` }).waitFor();
      // The heading shows at once; the rows once the history (and its consumers panel) loaded.
      await expectEventually(async () => expect(await page.locator('#history-table tbody tr').last().locator('td').first().innerText()).toBe('Removed (SecretRemoved)'));
      await page.getByRole('link', { name: '← All secrets' }).click();
      await page.getByRole('heading', { name: 'Secrets', exact: true }).waitFor();
    });

    it('sorts, filters and pages the secrets, the new ones arriving without a reload', async () => {
      for (let n = 1; n <= 40; n++) {
        const res = await t.request('/api/v1/secrets', { method: 'POST', json: { key: `TEAM_SECRET_${String(n).padStart(2, '0')}`, value: VALUES[5] } });
        expect(res.status).toBe(201);
      }
      const keys = () => page.locator('#secrets-table tbody tr th').allInnerTexts();
      await expectEventually(async () => expect(await page.locator('#secrets-table caption').innerText()).toBe('Secrets: 43, values never shown'));
      expect(await keys()).toHaveLength(25);
      expect((await keys()).slice(0, 4)).toEqual(['FIFTYONE_CVAT_URL', 'FIFTYONE_LABELBOX_API_KEY', 'S3_EXPORT_SECRET', 'TEAM_SECRET_01']);
      await page.getByRole('button', { name: 'Next page' }).click();
      expect(await keys()).toEqual(Array.from({ length: 18 }, (_, i) => `TEAM_SECRET_${i + 23}`));
      expect(await page.getByText('Page 2 of 2').count()).toBe(1);

      await page.getByRole('button', { name: /^Key/ }).click();
      expect(await page.locator('th[aria-sort]').getAttribute('aria-sort')).toBe('descending');
      expect((await keys())[0]).toBe('TEAM_SECRET_40');
      await page.getByRole('button', { name: 'Next page' }).click();
      expect((await keys()).slice(-2)).toEqual(['FIFTYONE_LABELBOX_API_KEY', 'FIFTYONE_CVAT_URL']);
      await page.getByRole('button', { name: /^Last change/ }).click();
      expect(await page.locator('th[aria-sort]').innerText()).toMatch(/^Last change/);
      expect((await keys())[0]).toBe('FIFTYONE_CVAT_URL');

      await page.getByLabel('Filter').fill('labelbox');
      expect(await keys()).toEqual(['FIFTYONE_LABELBOX_API_KEY']);
      expect(await page.locator('#secrets-table caption').innerText()).toBe('Secrets matching “labelbox”: 1 of 43');
      await page.getByLabel('Filter').fill('');
      await page.getByRole('button', { name: /^Key/ }).click();
      await expectAccessible(page);
    });

    /**
     * Each row of the key's trail reads as one line in words, its raw data behind an expander,
     * its time to the second in UTC with the local time on hover.
     */
    const expectSummaries = async () => {
      const entries = (await (await t.request(`/api/v1/audit?key=${KEY}&order=desc&limit=50`)).json()).items as { seq: number; at: string; type: string; data: Record<string, unknown> }[];
      const rows = page.locator('table.audit tbody tr');
      expect(await rows.locator('th').allInnerTexts()).toEqual(entries.map((e) => String(e.seq)));
      const summaries = await rows.locator('td.data summary').allInnerTexts();
      const resolve = entries.findIndex((e) => e.data.plugin === '@voxel51/annotation');
      const missing = entries[resolve].data.missing as string[];
      expect(missing).toHaveLength(2);
      expect(summaries[resolve]).toBe(`resolved 2 keys for @voxel51/annotation, 2 missing: ${missing.join(', ')}`);
      expect(summaries[entries.findIndex((e) => e.type === 'SecretAdded')]).toBe(`added ${KEY} (version 1)`);
      expect(summaries[entries.findIndex((e) => e.type === 'SecretRemoved')]).toBe(`removed ${KEY}`);
      expect(summaries[entries.findIndex((e) => e.type === 'SecretVersionDestroyed')]).toBe(`destroyed the value of ${KEY} version 1`);
      expect(summaries[entries.findIndex((e) => e.type === 'SecretRolledBack')]).toBe(`rolled ${KEY} back to version 3's value, as version 7`);
      expect(summaries.every((line) => line.length > 0 && !line.includes('{'))).toBe(true);
      // The raw data is hidden until the row is expanded, then it is the entry's data exactly.
      const raw = rows.nth(resolve).locator('td.data pre');
      expect(await raw.isVisible()).toBe(false);
      await rows.nth(resolve).locator('td.data summary').click();
      expect(await raw.isVisible()).toBe(true);
      expect(JSON.parse(await raw.innerText())).toEqual(entries[resolve].data);
      const times = rows.locator('td time');
      expect(await times.allInnerTexts()).toEqual(entries.map((e) => `${e.at.slice(0, 19).replace('T', ' ')} UTC`));
      const title = await times.first().getAttribute('title');
      expect(title).toBe(`${await page.evaluate((iso) => new Date(iso).toLocaleString(), entries[0].at)} local time`);
    };

    it('opens Audit, filters by key, exports that CSV, and verifies the chain with a copyable head', async () => {
      // A resolve that finds nothing of what it asks for, to read in words.
      await t.request('/api/v1/resolve', { method: 'POST', token: executorToken, json: { plugin: '@voxel51/annotation', keys: [KEY, 'CONSOLE_NEVER_ADDED'] } });
      await page.getByRole('link', { name: 'Audit' }).click();
      await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
      await expectNoEmptyStatusBar(page);
      await expectAccessible(page);
      await page.getByLabel('Key').fill(KEY);
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expectStatus(page, /^Showing the entries that match key CONSOLE_CVAT_TOKEN\.$/);
      const types = await page.locator('table.audit tbody tr td:nth-child(3)').allInnerTexts();
      // Newest first: the removal heads the key's trail.
      expect(types.filter((type) => type.startsWith('Secret') && type !== 'SecretsResolved')).toEqual([
        'SecretRemoved',
        'SecretRolledBack',
        'SecretVersionDestroyed',
        'SecretRolledBack',
        'SecretUpdated',
        'SecretUpdated',
        'SecretUpdated',
        'SecretUpdated',
        'SecretAdded',
      ]);

      await expectSummaries();

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
      expect(download.suggestedFilename()).toBe('audit.csv');
      const csv = readFileSync(await download.path(), 'utf8');
      const records = parse(csv, { columns: true }) as Record<string, string>[];
      expect(records.filter((r) => r.key === KEY).map((r) => r.type)).toEqual([
        'SecretAdded',
        'SecretUpdated',
        'SecretUpdated',
        'SecretUpdated',
        'SecretUpdated',
        'SecretRolledBack',
        'SecretVersionDestroyed',
        'SecretRolledBack',
        'SecretRemoved',
      ]);
      expect(records.every((r) => r.key === KEY || r.data.includes(KEY))).toBe(true);
      for (const secret of [...VALUES, ...tokens]) expect(csv).not.toContain(secret);
      await expectStatus(page, /^Exported the matching audit trail as audit\.csv/);

      await page.getByRole('button', { name: 'Verify chain' }).click();
      await expectStatus(page, /^Verified the chain: intact, \d+ entries, head seq \d+\.$/);
      const head = await (await t.request('/api/v1/audit/head')).json();
      expect(await page.locator('#head-seq').innerText()).toBe(String(head.seq));
      expect(await page.locator('#head-hash').innerText()).toBe(head.hash);
      await page.getByRole('button', { name: 'Copy head' }).click();
      await expectStatus(page, /^Copied the head to the clipboard\.$/);
      expect(JSON.parse(await page.evaluate(() => navigator.clipboard.readText()))).toEqual({ seq: head.seq, hash: head.hash });
      await expectAccessible(page);
      await expectNothingExposed(page);
      await screenshot(page, 'audit');

      // Verify against checkpoints kept elsewhere: one written now, its file and the key uploaded.
      const writer = new CheckpointWriter(t.app.get(EventStore), t.app.get(SigningKey), { everyEvents: 1, intervalMs: 1 });
      const checkpoint = (await t.app.get<Storage>(STORAGE).transact((tx) => writer.writeIfDue(tx)))!;
      const publicKey = { name: 'signing-key.pub.pem', mimeType: 'text/plain', buffer: Buffer.from(t.app.get(SigningKey).publicKeyPem) };
      const upload = async (checkpoints: object[]) => {
        await page.getByLabel('Checkpoints file').setInputFiles({ name: 'checkpoints.jsonl', mimeType: 'text/plain', buffer: Buffer.from(checkpoints.map((c) => `${JSON.stringify(c)}\n`).join('')) });
        await page.getByLabel('Signer’s public PEM (optional)').setInputFiles(publicKey);
        await page.getByRole('button', { name: 'Verify against checkpoints' }).click();
      };
      await upload([checkpoint]);
      await expectStatus(page, /^Verified the chain: intact, \d+ entries, head seq \d+\.$/);
      expect(await page.locator('#checkpoint-verdict').innerText()).toMatch(new RegExp(`^The log agrees with all 1 checkpoints \\(key ${checkpoint.keyId}\\), the newest at seq ${checkpoint.seq}\\.$`));
      await upload([{ ...checkpoint, hash: '0'.repeat(64) }]);
      await expectStatus(page, /^Verified: The chain holds \(\d+ entries\), but not against the checkpoints\.$/);
      expect(await page.locator('ul.checkpoint-problems li').allInnerTexts()).toEqual([expect.stringMatching(new RegExp(`^forged at seq ${checkpoint.seq}: the signature`))]);
      await expectAccessible(page);

      await page.getByRole('button', { name: 'Clear filters' }).click();
      await expectStatus(page, /^Showing every entry\.$/);
      const seqs = async () => (await page.locator('table.audit tbody tr th').allInnerTexts()).map(Number);
      // Newest first: the page opens on the head of the log.
      const headSeq = (await (await t.request('/api/v1/audit/head')).json()).seq as number;
      expect((await seqs()).slice(0, 2)).toEqual([headSeq, headSeq - 1]);
      expect(await page.locator('table.audit caption').innerText()).toBe('Audit entries, page 1, newest first');
      await page.getByRole('button', { name: 'Next page' }).click();
      await expectEventually(async () => expect((await seqs())[0]).toBe(headSeq - 50));
      expect(await page.locator('table.audit caption').innerText()).toBe('Audit entries, page 2, newest first');
      await page.getByRole('button', { name: 'Previous page' }).click();
      await expectEventually(async () => expect((await seqs())[0]).toBe(headSeq));

      // A seq to jump to, in either order; "Newest entries" goes back to the head.
      await page.getByLabel('Seq', { exact: true }).fill('7');
      await page.getByRole('button', { name: 'Go to seq' }).click();
      await expectStatus(page, /^Showing the entries from seq 7, newest first\.$/);
      expect(await seqs()).toEqual([7, 6, 5, 4, 3, 2, 1]);
      await page.getByLabel('Order').selectOption('asc');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expectEventually(async () => expect((await seqs()).slice(0, 2)).toEqual([1, 2]));
      await page.getByRole('button', { name: 'Go to seq' }).click();
      await expectEventually(async () => expect((await seqs()).slice(0, 2)).toEqual([7, 8]));
      expect(await page.locator('table.audit caption').innerText()).toBe('Audit entries, from seq 7, oldest first');
      await page.getByLabel('Seq', { exact: true }).fill('0');
      await page.getByRole('button', { name: 'Go to seq' }).click();
      await page.getByText('Enter a seq, a whole number of at least 1.').waitFor();
      await page.getByRole('button', { name: 'Newest entries' }).click();
      await expectEventually(async () => expect((await seqs())[0]).toBe(headSeq));
      expect(await page.getByLabel('Order').inputValue()).toBe('desc');
      await expectAccessible(page);
    });

    it('filters the trail by a token’s name, and says so when a name matches several tokens or none', async () => {
      const issue = (name: string) => t.app.get(TokensService).issue({ name, role: 'executor', plugins: null }, SYSTEM_ACTOR);
      const solo = await issue('solo-bot');
      const twins = [await issue('twin-runner'), await issue('twin-runner')];
      tokens.push(solo.token, ...twins.map((twin) => twin.token));
      for (const token of [solo.token, twins[0].token]) await t.request('/api/v1/resolve', { method: 'POST', token, json: { plugin: 'console-test', keys: [KEY] } });
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await expectStatus(page, /^Showing every entry\.$/);

      await page.getByLabel('Actor', { exact: true }).fill('solo-bot');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expectStatus(page, new RegExp(`^Showing the entries that match actor ${solo.id}\\.$`));
      const actorIds = () => page.locator('table.audit tbody tr td:nth-child(5) code').allInnerTexts();
      expect(await actorIds()).toEqual([solo.id]);

      await page.getByLabel('Actor', { exact: true }).fill('twin-runner');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expectStatus(page, /^The filters were not applied: 2 tokens are named “twin-runner”: /);
      const error = page.locator('.field-error, [id$="-error"]').filter({ hasText: 'twin-runner' }).first();
      for (const twin of twins) expect(await error.innerText()).toContain(twin.id);
      // Not applied: the table still shows solo-bot's entries, not an empty page.
      expect(await actorIds()).toEqual([solo.id]);

      await page.getByLabel('Actor', { exact: true }).fill('nobody-has-this-name');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expectStatus(page, /^The filters were not applied: No token is named “nobody-has-this-name”\./);

      // An id still works as it is.
      await page.getByLabel('Actor', { exact: true }).fill(twins[0].id);
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expectEventually(async () => expect(await actorIds()).toEqual([twins[0].id]));
      await expectAccessible(page);

      // The token table shows each id, copyable, so two tokens with one name can be told apart.
      await page.getByRole('link', { name: 'Tokens' }).click();
      await page.getByRole('heading', { name: 'Tokens', exact: true }).waitFor();
      for (const twin of twins) await page.locator(`tr[data-token-id="${twin.id}"] td.token-id code`, { hasText: twin.id }).waitFor();
      await page.locator(`tr[data-token-id="${twins[1].id}"]`).getByRole('button', { name: 'Copy id of twin-runner' }).click();
      await expectStatus(page, /^Copied the id of twin-runner to the clipboard\.$/);
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(twins[1].id);
      await expectAccessible(page);
      await page.getByRole('link', { name: 'Audit' }).click();
      await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
    });

    it('shows when each token was last used: relative, the exact UTC time on hover, “never” for one unused', async () => {
      const idle = await t.app.get(TokensService).issue({ name: 'idle-bot', role: 'executor', plugins: null }, SYSTEM_ACTOR);
      tokens.push(idle.token);
      await page.getByRole('link', { name: 'Tokens' }).click();
      await page.getByRole('heading', { name: 'Tokens', exact: true }).waitFor();
      const listed = ((await (await t.request('/api/v1/tokens')).json()).items as { id: string; name: string; lastUsedAt: string | null }[]).find((token) => token.name === 'console-check')!;
      expect(listed.lastUsedAt).not.toBeNull();
      const used = page.locator(`tr[data-token-id="${listed.id}"] td.last-used`);
      expect(await used.innerText()).toMatch(/^(just now|\d+ min ago)$/);
      expect(await used.locator('time').getAttribute('title')).toBe(`${listed.lastUsedAt!.slice(0, 19).replace('T', ' ')} UTC`);
      expect(await used.locator('time').getAttribute('datetime')).toBe(listed.lastUsedAt);
      await expectEventually(async () => expect(await page.locator(`tr[data-token-id="${idle.id}"] td.last-used`).innerText()).toBe('never'));
      await expectAccessible(page);
    });

    it('lists the keys executors find missing, with their plugin; a key added from its row shows as present, then as resolved', async () => {
      const missingKey = 'CONSOLE_MISSING_KEY';
      const value = 'console-plaintext-missing-3d7a';
      VALUES.push(value);
      const ask = () => t.request('/api/v1/resolve', { method: 'POST', token: executorToken, json: { plugin: '@acme/missing-check', keys: [missingKey, 'FIFTYONE_CVAT_URL'] } });
      expect(await (await ask()).json()).toMatchObject({ missing: [missingKey] });
      await page.getByRole('link', { name: 'Missing keys' }).click();
      await page.getByRole('heading', { name: 'Missing keys' }).waitFor();
      await expectNoEmptyStatusBar(page);
      const row = page.locator(`#missing-table tbody tr[data-key="${missingKey}"]`);
      const cellsOf = (key: string) => page.locator(`#missing-table tbody tr[data-key="${key}"]`).locator('th, td').allInnerTexts();
      await row.waitFor();
      expect((await cellsOf(missingKey)).slice(0, 3)).toEqual([missingKey, '@acme/missing-check', '1']);
      expect((await cellsOf(missingKey))[4]).toBe('missing');
      // The audit step's resolve, by another plugin; a key that resolves found is not listed.
      expect((await cellsOf('CONSOLE_NEVER_ADDED')).slice(0, 2)).toEqual(['CONSOLE_NEVER_ADDED', '@voxel51/annotation']);
      expect(await page.locator('#missing-table tbody tr[data-key="FIFTYONE_CVAT_URL"]').count()).toBe(0);
      await expectAccessible(page);

      await row.getByRole('button', { name: `Add ${missingKey}` }).click();
      expect(await page.getByLabel('Key', { exact: true }).inputValue()).toBe(missingKey);
      await page.getByLabel('Value', { exact: true }).fill(value);
      await page.getByRole('button', { name: 'Add secret' }).click();
      await expectStatus(page, new RegExp(`^Added ${missingKey} \\(version 1\\)\\.`));
      await expectEventually(async () => expect((await cellsOf(missingKey))[4]).toBe('added; not resolved since'));
      expect(await (await ask()).json()).toMatchObject({ secrets: { [missingKey]: value }, missing: [] });
      await expectEventually(async () => expect((await cellsOf(missingKey))[4]).toMatch(/^added; resolved since, at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/));
      expect((await cellsOf(missingKey)).slice(0, 3)).toEqual([missingKey, '@acme/missing-check', '1']);
      expect(await row.getByRole('link', { name: `History of ${missingKey}` }).count()).toBe(1);
      // Another window is read afresh.
      await page.getByLabel('Resolves of').selectOption('1h');
      await expectStatus(page, /^Showing the keys missing in the last hour\.$/);
      expect(await page.locator('#missing-table caption').innerText()).toMatch(/^Keys missing in the last hour: \d+, from \d+ resolves, most recently missing first$/);
      expect((await cellsOf(missingKey)).slice(0, 3)).toEqual([missingKey, '@acme/missing-check', '1']);
      await expectAccessible(page);
      await expectNothingExposed(page);
      await screenshot(page, 'missing-keys');
    });

    it('signs out: the token leaves sessionStorage and the sign-in form is back', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('Token').waitFor();
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
      expect(await page.getByRole('link', { name: 'Secrets' }).count()).toBe(0);
    });
  });

  describe('as an auditor', () => {
    let page: Page;
    beforeAll(async () => {
      page = await open();
    });

    it('reads secrets, history and audit, and finds no way to change anything', async () => {
      await signIn(page, auditorToken);
      await expectStatus(page, /^Signed in as reviewer \(auditor\)\.$/);
      await rowOf(page, 'FIFTYONE_CVAT_URL').waitFor();
      expect(await page.getByRole('link').allInnerTexts()).toEqual(expect.arrayContaining(['Secrets', 'Audit']));
      expect(await page.getByRole('link', { name: 'Tokens' }).count()).toBe(0);
      const readOnly = /^(Sign out|Key|Version|Last change|Previous page|Next page|Newest entries|Go to seq|Apply filters|Clear filters|Export NDJSON|Export CSV|Verify chain|Verify against checkpoints|Copy head)(,? .*)?$/;
      const check = async () => {
        for (const name of await buttonNames(page)) expect(name).toMatch(readOnly);
        // The checkpoints file and key are read in the browser for a verify: they change nothing.
        expect(await page.locator('input:not([type=search]):not([name=key]):not([name=actor]):not([name=from]):not([name=to]):not([name=start]):not([name=checkpoints]):not([name=publicKey]), textarea').count()).toBe(0);
      };
      await check();
      await expectAccessible(page);

      await page.getByRole('link', { name: 'History of FIFTYONE_CVAT_URL' }).click();
      await page.getByRole('heading', { name: 'History of FIFTYONE_CVAT_URL' }).waitFor();
      await expectEventually(async () => expect(await page.locator('#history-table tbody tr').count()).toBe(1));
      await check();

      await page.getByRole('link', { name: 'Audit' }).click();
      await page.locator('table.audit tbody tr th').first().waitFor();
      await check();
      await page.goto(`${t.baseUrl}/#/tokens`);
      await page.getByRole('heading', { name: 'Secrets' }).waitFor();
      await check();
      await expectNothingExposed(page);
    });

    it('sees the missing keys, with no way to add one', async () => {
      await page.getByRole('link', { name: 'Missing keys' }).click();
      await page.locator('#missing-table tbody tr[data-key="CONSOLE_NEVER_ADDED"]').waitFor();
      expect(await page.getByRole('button', { name: /^Add / }).count()).toBe(0);
      expect(await page.getByRole('link', { name: 'History of CONSOLE_MISSING_KEY' }).count()).toBe(1);
      await expectAccessible(page);
      await expectNothingExposed(page);
      // Back to the view whose refetch the next step expects.
      await page.getByRole('link', { name: 'Secrets' }).click();
      await rowOf(page, 'FIFTYONE_CVAT_URL').waitFor();
    });

    it('ends the session when the token is revoked elsewhere, and says why', async () => {
      const { items } = await (await t.request('/api/v1/tokens')).json();
      const reviewer = items.find((token: { name: string }) => token.name === 'reviewer');
      expect((await t.request(`/api/v1/tokens/${reviewer.id}`, { method: 'DELETE' })).status).toBe(204);
      await page.getByLabel('Token').waitFor();
      expect(await statusOf(page)).toBe('Your token stopped working (revoked, or the service forgot it): sign in again.');
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    });
  });

  describe('as an executor', () => {
    it('is told plainly that the token has no access here, and nothing is kept', async () => {
      const page = await open();
      await signIn(page, executorToken);
      await page.getByRole('heading', { name: 'No access to the console' }).waitFor();
      expect(await page.getByRole('alert').innerText()).toBe(
        'console-check is an executor token: it resolves secrets for plugins and has no access here. Sign in with an admin or auditor token to use the console.',
      );
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
      expect(await page.getByRole('navigation').getByRole('link').count()).toBe(0);
      await expectNothingExposed(page);
      await expectAccessible(page);
    });
  });

  it('no page requested or showed a URL with a value or a token, logged an error or a CSP violation, or met a refusal it was not meant to', () => {
    const urls = records.flatMap((r) => r.urls);
    expect(urls.length).toBeGreaterThan(10);
    // Positive control: the search finds what it looks for in the same list.
    expect(urls.join('\n')).toContain('/api/v1/audit/head');
    for (const secret of [...VALUES, ...tokens, auditorToken, executorToken]) expect(urls.join('\n')).not.toContain(secret);
    expect(records.flatMap((r) => r.problems)).toEqual([]);
    // The only failed responses are the refusals the admin's steps provoked, in their order.
    expect(records.flatMap((r) => r.refusals)).toEqual([
      '400 /api/v1/secrets',
      `412 /api/v1/secrets/${KEY}`,
      expect.stringMatching(/^409 \/api\/v1\/tokens\/tok_/),
      // None for the auditor's revoked token: the stream's `revoked` event ends its session first.
    ]);
  });
});
