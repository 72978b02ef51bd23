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
  await page.getByTestId('overview-hosts').getByText(/(AVAILABLE|NEW|ONLINE|OFFLINE) \d+|None/).waitFor();
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

  // The seeded cluster of 100 servers, its sessions chart of 100 series over a day, and
  // 10,000 alert events.
  const big = process.env.OCP_BIG_CLUSTER;
  const topology = [];
  const chart = [];
  const events = [];
  let eventsPage = null;
  for (let i = 0; i < 5; i++) {
    let started = Date.now();
    await page.goto(`${base}/clusters/${big}`);
    await page.getByTestId('topology').locator('.ant-card').nth(99).waitFor();
    topology.push(Date.now() - started);
    await page.getByRole('tab', { name: 'Performance' }).click();
    await page.getByTestId('time-range').getByText('1d', { exact: true }).waitFor();
    started = Date.now();
    await page.getByTestId('time-range').getByText('1d', { exact: true }).click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="chart-ob_session_num"]')?.getAttribute('data-series') === '100',
      null,
      { timeout: 30_000 },
    );
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
    chart.push(Date.now() - started);
    started = Date.now();
    const answer = page.waitForResponse((r) => r.url().includes('/api/v2/alarm/alarms?page=1&size=20'));
    await page.goto(`${base}/alerts/events`);
    await page.getByTestId('events').locator('tr[data-row-key]').first().waitFor();
    events.push(Date.now() - started);
    eventsPage = (await (await answer).json()).data.page;
  }
  console.log(`console JS, login page:            ${(loginBytes / 1024).toFixed(0)} KiB gzip`);
  console.log(`console JS, login + overview:      ${(overviewBytes / 1024).toFixed(0)} KiB gzip`);
  console.log(`navigation to overview data drawn: ${median(overview)} ms (median of 5)`);
  console.log(`navigation to a 200-subtask DAG:   ${median(dag)} ms (median of 5)`);
  console.log(`navigation to a 100-server cluster: ${median(topology)} ms (median of 5)`);
  console.log(`100 series over 1 day drawn:        ${median(chart)} ms (median of 5)`);
  console.log(
    `events page of ${eventsPage.totalElements} events:  ${median(events)} ms (median of 5; the server sends ${eventsPage.size} a page)`,
  );
} finally {
  await browser.close();
}
