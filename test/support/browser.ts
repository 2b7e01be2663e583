import axe from 'axe-core';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';

/** Debian's Chromium; the tests drive it, they never download a browser of their own. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium on a fresh, empty profile, removed by `close()`. */
export async function launchChromium(executablePath = CHROMIUM_PATH): Promise<Browser> {
  if (!existsSync(executablePath)) {
    throw new Error(`The browser tests need Chromium at ${executablePath}: install Debian's package \`chromium\` (apt-get install -y chromium).`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'secrets-ledger-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    args: FLAGS,
    acceptDownloads: true,
    viewport: { width: 1280, height: 860 },
    timezoneId: 'UTC',
    locale: 'en-GB',
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * What a page said that it should not have: console errors (Chromium reports CSP violations
 * there too), uncaught exceptions, and `securitypolicyviolation` events, plus every URL it
 * requested or navigated to.
 */
export interface PageRecord {
  problems: string[];
  /**
   * The API's refusals the page received (`412 /api/v1/secrets/KEY`): Chromium logs each failed
   * response as a console error, so they are kept apart, for the test to compare with the
   * refusals it provoked.
   */
  refusals: string[];
  urls: string[];
}

const FAILED_RESPONSE = /^Failed to load resource: the server responded with a status of (4\d\d)\b/;

export async function watchPage(page: Page): Promise<PageRecord> {
  const record: PageRecord = { problems: [], refusals: [], urls: [] };
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const refused = FAILED_RESPONSE.exec(message.text());
    const path = new URL(message.location().url || 'about:blank').pathname;
    if (refused && path.startsWith('/api/v1/')) record.refusals.push(`${refused[1]} ${path}`);
    else record.problems.push(`console ${message.type()}: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => record.problems.push(`page error: ${error.message}`));
  page.on('request', (request) => record.urls.push(request.url()));
  page.on('framenavigated', (frame) => record.urls.push(frame.url()));
  page.on('download', (download) => record.urls.push(download.url()));
  // Added through the DevTools protocol, so the console's CSP does not apply to it.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`));
  });
  return record;
}

/**
 * Everything a script on the page or a look at the screen could find: the markup, the values
 * of every field (not in the markup), the visible text, localStorage, and the address.
 */
export function exposed(page: Page): Promise<string> {
  return page.evaluate(() => {
    const fields = Array.from(document.querySelectorAll('input, textarea, select')).map((f) => (f as HTMLInputElement).value);
    const local = Object.keys(localStorage).map((k) => `${k}=${localStorage.getItem(k)}`);
    return [document.documentElement.outerHTML, document.body.innerText, ...fields, ...local, location.href].join('\n');
  });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core run in the page: the violations whose impact is serious or critical. */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axe.source);
  return page.evaluate(async () => {
    const { violations } = await (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] });
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help, nodes: v.nodes.map((n) => n.html) }));
  });
}
