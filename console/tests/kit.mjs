// What the console's browser scripts share: Debian's Chromium through playwright-core, named
// steps that each leave a screenshot, API calls made from the page with its session, and
// logging in. Env: OCP_URL, OCP_SCREENSHOTS (a directory), OCP_BROWSER_MARKER (an argument
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

  try {
    await body({ page, step, inPage, logIn });
    if (cspErrors.length > 0) {
      throw new Error(`the console broke its Content-Security-Policy: ${cspErrors.join('; ')}`);
    }
    console.log(steps.join('\n'));
  } catch (e) {
    console.log(steps.join('\n'));
    console.error(e);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}
