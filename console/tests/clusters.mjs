// Drives the console's cluster pages in Debian's Chromium against a real server, agent and
// seekdb. Started by crates/ocp-server/tests/console.rs, which starts them, uploads the
// seekdb package and makes a cluster viewer. Env (besides kit.mjs's): OCP_ADMIN_PASSWORD,
// OCP_VIEWER, OCP_VIEWER_PASSWORD, OCP_SQL_PORT (a free port for the new cluster).
import assert from 'node:assert/strict';

import { base, run } from './kit.mjs';

/** Picks the option of an antd Select (opened by clicking its input) whose text matches. */
async function choose(page, inputId, text) {
  await page.locator(`#${inputId}`).click();
  await page.locator('.ant-select-item-option', { hasText: text }).first().click();
}

/** On a task's page: waits until the task succeeded, live. */
async function taskSucceeds(page, timeout = 180_000) {
  await page.waitForURL(/\/tasks\/\d+$/);
  await page.getByTestId('task-status').getByText('SUCCESSFUL').waitFor({ timeout });
}

await run(async ({ page, step, inPage, logIn }) => {
  let clusterUrl;

  await step('cluster-wizard', async () => {
    await logIn('admin', process.env.OCP_ADMIN_PASSWORD);
    await page.waitForURL(/\/overview$/);
    await page.getByRole('menuitem', { name: 'Clusters' }).click();
    await page.getByTestId('create-cluster').click();
    const wizard = page.getByTestId('cluster-wizard');
    // Nothing passes a step with its fields empty.
    await page.getByTestId('wizard-next').click();
    await wizard.getByText('Start with a letter').waitFor();
    await page.fill('#cluster-name', 'web1');
    await choose(page, 'cluster-package', 'seekdb');
    await page.getByTestId('wizard-next').click();
    await choose(page, 'cluster-host', '127.0.0.1');
    await page.fill('#cluster-port', process.env.OCP_SQL_PORT);
    await page.getByTestId('wizard-next').click();
    await page.fill('#cluster-password', 'short');
    await page.getByTestId('password-strength').getByText('Weak').waitFor();
    await page.fill('#cluster-password', 'Root-Pass-2026!');
    await page.getByTestId('password-strength').getByText('Very strong').waitFor();
    await page.fill('#cluster-confirm', 'Root-Pass-2026?');
    await page.getByTestId('wizard-next').click();
    await wizard.getByText('The passwords differ').waitFor();
    await page.fill('#cluster-confirm', 'Root-Pass-2026!');
    await page.getByTestId('wizard-next').click();
    // The last step shows the request, startup defaults included and the password hidden.
    const request = JSON.parse(await page.getByTestId('cluster-request').innerText());
    assert.equal(request.name, 'web1');
    assert.equal(request.sqlPort, Number(process.env.OCP_SQL_PORT));
    assert.equal(request.password, '********');
    assert.deepEqual(
      request.parameters.map((p) => p.name),
      ['memory_budget', 'log_disk_size', 'datafile_size'],
    );
  });

  await step('cluster-deploy', async () => {
    await page.getByTestId('wizard-submit').click();
    await taskSucceeds(page);
    await page.getByText('Create primary OB cluster').first().waitFor();
  });

  await step('clusters', async () => {
    await page.getByRole('menuitem', { name: 'Clusters' }).click();
    const list = page.getByTestId('clusters');
    await list.getByText('RUNNING').waitFor({ timeout: 30_000 });
    await list.getByRole('link', { name: 'web1' }).click();
    await page.waitForURL(/\/clusters\/\d+$/);
    clusterUrl = page.url();
  });

  await step('cluster', async () => {
    await page.getByTestId('cluster-status').getByText('RUNNING').waitFor();
    const connection = await page.getByTestId('connection-string').innerText();
    assert.match(connection, new RegExp(`-P${process.env.OCP_SQL_PORT} -uroot`));
    const topology = page.getByTestId('topology');
    await topology.getByText('Zone zone1').waitFor();
    await topology.locator('[data-testid^="server-"]').getByText(`:${process.env.OCP_SQL_PORT}`).waitFor();
  });

  await step('server-restart', async () => {
    // What a running server cannot go through is not offered.
    assert.equal(await page.locator('[data-testid^="server-"][data-testid$="-start"]').isDisabled(), true);
    await page.locator('[data-testid^="server-"][data-testid$="-restart"]').click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await taskSucceeds(page);
    await page.goto(clusterUrl);
    await page.getByTestId('topology').locator('[data-testid^="server-"]').getByText('RUNNING').waitFor({ timeout: 30_000 });
  });

  await step('cluster-parameters', async () => {
    await page.getByRole('tab', { name: 'Parameters' }).click();
    await page.getByPlaceholder('Search name or description').fill('plan_cache_evict_interval');
    const table = page.getByTestId('parameters');
    await table.getByText('plan_cache_evict_interval').waitFor();
    await page.getByTestId('edit-plan_cache_evict_interval').click();
    // A value of the wrong type is refused in place, before any request.
    await page.getByTestId('parameter-value').fill('soon');
    await page.getByTestId('parameter-save').click();
    await table.getByText('A duration such as').waitFor();
    await page.getByTestId('parameter-value').fill('7s');
    await page.getByTestId('parameter-save').click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByTestId('value-plan_cache_evict_interval').getByText('7s').waitFor({ timeout: 15_000 });
  });

  await step('cluster-tasks', async () => {
    await page.getByRole('tab', { name: 'Tasks' }).click();
    await page.getByTestId('tasks').getByText('Create primary OB cluster').first().waitFor();
  });

  await step('cluster-viewer', async () => {
    await page.getByTestId('user-menu').hover();
    await page.getByText('Log out').click();
    await page.waitForURL(/\/login$/);
    await logIn(process.env.OCP_VIEWER, process.env.OCP_VIEWER_PASSWORD);
    await page.waitForURL(/\/overview$/);
    await page.goto(clusterUrl);
    await page.getByTestId('cluster-status').getByText('RUNNING').waitFor();
    await page.getByTestId('topology').waitFor();
    for (const control of ['delete-cluster', 'change-root-password', 'cluster-restart']) {
      assert.equal(await page.getByTestId(control).count(), 0, `a viewer is offered no ${control}`);
    }
    await page.getByRole('tab', { name: 'Parameters' }).click();
    await page.getByPlaceholder('Search name or description').fill('plan_cache');
    await page.getByTestId('value-plan_cache_evict_interval').getByText('7s').waitFor();
    assert.equal(await page.locator('[data-testid^="edit-"]').count(), 0, 'a viewer edits no parameter');
    const id = clusterUrl.split('/').pop();
    const refused = await inPage('POST', `/api/v2/ob/clusters/${id}/restart`);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
  });

  await step('cluster-delete', async () => {
    await page.getByTestId('user-menu').hover();
    await page.getByText('Log out').click();
    await logIn('admin', process.env.OCP_ADMIN_PASSWORD);
    await page.waitForURL(/\/overview$/);
    await page.goto(clusterUrl);
    await page.getByTestId('delete-cluster').click();
    const ok = page.getByRole('button', { name: 'Delete' }).last();
    assert.equal(await ok.isDisabled(), true, 'delete waits for the name');
    await page.getByTestId('delete-name').fill('web1');
    await ok.click();
    await taskSucceeds(page);
    await page.goto(`${base}/clusters`);
    await page.getByTestId('clusters').getByText('No data').waitFor({ timeout: 30_000 });
  });
});
