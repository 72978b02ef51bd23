// What the console's browser scripts share: Debian's Chromium through playwright-core, named
// steps that each leave a screenshot, API calls made from the page with its session, and
// logging in and out. Env: OCP_URL, OCP_SCREENSHOTS (a directory), OCP_BROWSER_MARKER (an argument
// every browser process carries, so the Rust test can kill them all), CHROMIUM (the
// executable, /usr/bin/chromium by default).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

export const base = process.env.OCP_URL;

/**
 * Runs `body(kit)` in a fresh page; prints the steps that passed, and on failure the error
 * (the exit code then is 1). The browser is closed either way.
 */
export async function run(body) {
  const shots = process.env.OCP_SCREENSHOTS;
  mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', `--ocp-test-marker=${process.env.OCP_BROWSER_MARKER ?? ''}`],
  });
  const steps = [];
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const cspErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  // The page's API calls (but the shell's alert poll), so that a failure shows what the page
  // asked and what it was answered.
  const calls = [];
  page.on('response', (r) => {
    const url = new URL(r.url());
    if (!url.pathname.startsWith('/api/') || url.pathname === '/api/v2/alarm/alarms') return;
    calls.push(`${new Date().toISOString().slice(11, 23)} ${r.request().method()} ${url.pathname}${url.search} ${r.status()}`);
    if (calls.length > 40) calls.shift();
  });

  async function step(name, stepBody) {
    const started = Date.now();
    try {
      await stepBody();
      steps.push(`ok   ${name} (${Date.now() - started} ms)`);
    } finally {
      await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true }).catch(() => {});
    }
  }

  /** Calls the API from the page, with its cookie, as the console's code would. */
  function inPage(method, path, { csrf = true, body: payload } = {}) {
    return page.evaluate(
      async ([method, path, csrf, payload]) => {
        const session = await fetch('/api/v2/iam/session', { headers: { 'X-OCP-Client': 'console' } });
        const token = session.ok ? (await session.json()).data.csrfToken : null;
        const headers = { 'X-OCP-Client': 'console', 'Content-Type': 'application/json' };
        if (csrf && token) headers['X-OCP-CSRF'] = token;
        const response = await fetch(path, { method, headers, body: payload && JSON.stringify(payload) });
        return { status: response.status, body: await response.json().catch(() => null) };
      },
      [method, path, csrf, payload],
    );
  }

  async function logIn(username, password) {
    await page.goto(`${base}/login`);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button[type=submit]');
  }

  /**
   * Logs out through the user menu and waits for the login page: navigating on at once
   * could abort the logout's request and leave the session alive.
   */
  async function logOut() {
    await page.getByTestId('user-menu').hover();
    await page.getByText('Log out').click();
    await page.waitForURL(/\/login$/);
  }

  try {
    await body({ page, step, inPage, logIn, logOut });
    if (cspErrors.length > 0) {
      throw new Error(`the console broke its Content-Security-Policy: ${cspErrors.join('; ')}`);
    }
    console.log(steps.join('\n'));
  } catch (e) {
    console.log(steps.join('\n'));
    console.error(e);
    console.error(`the page's last API calls:\n  ${calls.join('\n  ')}`);
    const shown = await page
      .locator('.ant-message-notice, .ant-modal-content, .ant-notification-notice')
      .allInnerTexts()
      .catch(() => []);
    if (shown.length > 0) console.error(`messages and dialogs on the page:\n  ${shown.join('\n  ')}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

/**
 * Clicks a confirmation's Confirm (`modal.confirm`) and waits until it closes. A click that
 * lands while the dialog is still zooming in can be lost; it is clicked again only while no
 * state-changing API request has gone out, so an action never runs twice.
 */
export async function confirmDialog(page) {
  const dialog = page.locator('.ant-modal-confirm:visible');
  const button = dialog.getByRole('button', { name: 'Confirm' });
  let sent = false;
  const onRequest = (r) => {
    if (r.method() !== 'GET' && new URL(r.url()).pathname.startsWith('/api/')) sent = true;
  };
  page.on('request', onRequest);
  try {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await button.click({ timeout: attempt === 0 ? 30_000 : 2_000 }).catch((e) => {
        if (attempt === 0) throw e;
      });
      const deadline = Date.now() + 3_000;
      while (!sent && Date.now() < deadline) await page.waitForTimeout(50);
      if (sent) return await dialog.waitFor({ state: 'hidden', timeout: 60_000 });
    }
    throw new Error('the confirmation was clicked 5 times and sent no request');
  } finally {
    page.off('request', onRequest);
  }
}
