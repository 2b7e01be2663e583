import { launchChromium } from '../support/browser';

describe('the browser tests’ setup', () => {
  it('fails with the Debian package to install when Chromium is missing', async () => {
    await expect(launchChromium('/nonexistent/chromium')).rejects.toThrow("install Debian's package `chromium` (apt-get install -y chromium)");
  });
});
