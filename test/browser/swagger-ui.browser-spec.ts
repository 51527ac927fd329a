import { chromium, type Browser, type Page } from 'playwright-core';
import { registerAndLogin } from '../support/auth-helpers.js';
import { startListening } from '../support/listening-instance.js';
import { TestContext, type TestInstance } from '../support/test-context.js';

// Swagger UI in a real (headless) Chromium: the path a developer takes to try the API by hand.
// Debian's Chromium, never a downloaded one; CI installs it (`ensure_chromium` in .ci/run).
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = '/tmp/swagger-ui.png';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('Swagger UI at /docs', () => {
  let context: TestContext;
  let instance: TestInstance;
  let baseUrl: string;
  let browser: Browser;
  let page: Page;
  /** What the page said on its console and any uncaught error: the first place a CSP block shows. */
  const browserLog: string[] = [];

  beforeAll(async () => {
    context = await TestContext.create('swagger_ui');
    ({ instance, baseUrl } = await startListening(context));
    // Playwright gives the browser a fresh temporary profile and removes it on close.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning')
        browserLog.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => browserLog.push(`pageerror: ${error.message}`));
    page.on('requestfailed', (request) =>
      browserLog.push(`requestfailed: ${request.url()} ${request.failure()?.errorText}`),
    );
  });
  afterAll(async () => {
    await browser?.close();
    await context?.close();
  });

  it('authorizes with a bearer token and runs GET /auth/me with "Try it out"', async () => {
    const { account, tokens } = await registerAndLogin(instance);

    const docs = await page.goto(`${baseUrl}/docs`);
    expect(docs?.status()).toBe(200);
    const authorize = page.locator('.scheme-container button.authorize');
    await authorize.waitFor({ state: 'visible', timeout: 15_000 }).catch((error: Error) => {
      throw new Error(
        `Swagger UI did not render: ${error.message}\n` +
          `Content-Security-Policy: ${docs?.headers()['content-security-policy']}\nbrowser log:\n${browserLog.join('\n')}`,
      );
    });

    await authorize.click();
    const modal = page.locator('.modal-ux');
    await modal.waitFor({ state: 'visible' });
    // One form per security scheme; the bearer one is headed by the scheme name `bearer`.
    const bearer = modal.locator('form').filter({ has: page.locator('h4 code', { hasText: /^bearer$/ }) });
    await bearer.locator('#auth-bearer-value').fill(tokens.access_token);
    await bearer.getByRole('button', { name: 'Apply credentials' }).click();
    // Applied: the field gives way to a masked value, an "Authorized" heading and a "Logout" button.
    await bearer.locator('h6', { hasText: 'Authorized' }).waitFor({ state: 'visible' });
    await expect(bearer.locator('#auth-bearer-value').count()).resolves.toBe(0);
    await expect(bearer.getByRole('button', { name: 'Remove authorization' }).isVisible()).resolves.toBe(true);
    await bearer.getByRole('button', { name: 'Close' }).click();
    await modal.waitFor({ state: 'hidden' });

    const me = page.locator('.opblock.opblock-get').filter({ has: page.locator('[data-path="/auth/me"]') });
    await me.locator('.opblock-summary-control').click();
    await me.getByRole('button', { name: 'Try it out' }).click();
    await me.getByRole('button', { name: 'Execute' }).click();

    const live = me.locator('.live-responses-table .response');
    await live.first().waitFor({ state: 'visible', timeout: 15_000 });
    await live.first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: SCREENSHOT });

    // The curl line Swagger UI shows is the request it sent: the bearer token must be on it.
    await expect(me.locator('.curl-command').innerText()).resolves.toContain(
      `Authorization: Bearer ${tokens.access_token}`,
    );
    await expect(live.first().locator('.response-col_status').innerText()).resolves.toBe('200');
    const body = await live.first().locator('.response-col_description pre').first().innerText();
    expect(JSON.parse(body)).toMatchObject({ id: account.id, email: account.email });
    // Nothing blocked on the way (a Content-Security-Policy refusal is logged as a console error).
    expect(browserLog.filter((line) => !line.startsWith('warning:'))).toEqual([]);
  });
});
