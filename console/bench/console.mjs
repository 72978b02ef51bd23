// Prints the console's numbers: the gzip size of the JavaScript the login and overview pages
// load, and in headless Chromium the time from navigation to the overview's data drawn and to
// a task page's DAG drawn. Env: OCP_URL, OCP_ADMIN_PASSWORD, OCP_TASK_ID (a task with many
// subtasks), CHROMIUM. Started by scripts/bench-console.sh.
import { gzipSync } from 'node:zlib';

import { chromium } from 'playwright-core';

const base = process.env.OCP_URL;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});

/** The gzip size of every script a page fetched. */
function scripts(page) {
  const bodies = new Map();
  page.on('response', async (response) => {
    if (response.request().resourceType() === 'script') {
      bodies.set(response.url(), gzipSync(await response.body()).length);
    }
  });
  return () => [...bodies.values()].reduce((a, b) => a + b, 0);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const loaded = scripts(page);
  await page.goto(`${base}/login`);
  await page.locator('#username').waitFor();
  const loginBytes = loaded();
  await page.fill('#username', 'admin');
  await page.fill('#password', process.env.OCP_ADMIN_PASSWORD);
  await page.click('button[type=submit]');
  await page.getByTestId('overview-hosts').getByText(/AVAILABLE|None/).waitFor();
  await page.waitForLoadState('networkidle');
  const overviewBytes = loaded();

  const overview = [];
  const dag = [];
  for (let i = 0; i < 5; i++) {
    let started = Date.now();
    await page.goto(`${base}/overview`);
    await page.getByText('Latest tasks').waitFor();
    await page.getByTestId('overview-latest').locator('a').first().waitFor();
    overview.push(Date.now() - started);
    started = Date.now();
    await page.goto(`${base}/tasks/${process.env.OCP_TASK_ID}`);
    await page.locator('[data-testid^="subtask-"]').nth(199).waitFor();
    dag.push(Date.now() - started);
  }
  console.log(`console JS, login page:            ${(loginBytes / 1024).toFixed(0)} KiB gzip`);
  console.log(`console JS, login + overview:      ${(overviewBytes / 1024).toFixed(0)} KiB gzip`);
  console.log(`navigation to overview data drawn: ${median(overview)} ms (median of 5)`);
  console.log(`navigation to a 200-subtask DAG:   ${median(dag)} ms (median of 5)`);
} finally {
  await browser.close();
}
