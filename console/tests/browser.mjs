// Drives the built console in Debian's Chromium against a running server. Started by
// crates/ocp-server/tests/console.rs, which starts the server (with a local agent), prepares
// users and a failed task, and kills everything on drop. Env (besides kit.mjs's):
// OCP_ADMIN_PASSWORD, OCP_VIEWER, OCP_VIEWER_PASSWORD, OCP_FAILED_TASK (a task that fails until
// OCP_GATE exists), OCP_GATE, OCP_HOST_ID.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { base, confirmDialog, run } from './kit.mjs';

await run(async ({ page, step, inPage, logIn, logOut }) => {
  await step('login-refused', async () => {
    await page.goto(`${base}/`);
    await page.waitForURL(/\/login$/);
    await logIn('admin', 'not-the-password');
    const error = page.getByTestId('login-error');
    await error.waitFor();
    assert.match(await error.innerText(), /wrong user name or password/);
  });

  await step('overview', async () => {
    await logIn('admin', process.env.OCP_ADMIN_PASSWORD);
    await page.waitForURL(/\/overview$/);
    const hosts = page.getByTestId('overview-hosts');
    await hosts.getByText('AVAILABLE 1').waitFor({ timeout: 15_000 });
    await page.getByTestId('user-menu').getByText('admin').waitFor();
    await page.getByText('Prepare host').first().waitFor();
    assert.equal(await page.locator('.ant-alert-error').count(), 0, 'every overview query answered');
  });

  await step('hosts', async () => {
    await page.getByRole('menuitem', { name: 'Hosts' }).click();
    await page.waitForURL(/\/hosts$/);
    const table = page.getByTestId('hosts');
    await table.getByText('127.0.0.1').first().waitFor();
    await table.getByText('AVAILABLE').first().waitFor();
  });

  await step('add-host', async () => {
    await page.getByTestId('add-host').click();
    const command = page.getByTestId('join-command');
    await command.waitFor();
    assert.match(await command.innerText(), new RegExp(`--server ${base} --join-token \\S{20,}`));
    await page.locator('.ant-modal-close').click();
    await command.waitFor({ state: 'detached' });
  });

  await step('host', async () => {
    await page.getByTestId('hosts').getByRole('link', { name: '127.0.0.1' }).click();
    await page.waitForURL(/\/hosts\/\d+$/);
    await page.getByTestId('host-facts').getByText('AVAILABLE').first().waitFor();
    const processes = page.getByTestId('agent-processes');
    await processes.getByText('ocp_mgragent').waitFor();
    await processes.getByText('ocp_monagent').waitFor();
    // The agent samples every 10 s: its CPU and memory charts have points.
    for (const metric of ['host_cpu_percent', 'host_memory_used_percent']) {
      await page.waitForFunction(
        (m) => Number(document.querySelector(`[data-testid="chart-${m}"]`)?.getAttribute('data-points')) > 0,
        metric,
        { timeout: 30_000 },
      );
    }
    await page.locator('[data-testid="chart-host_cpu_percent"] canvas').waitFor();
  });

  await step('tasks', async () => {
    await page.getByRole('menuitem', { name: 'Tasks' }).click();
    await page.waitForURL(/\/tasks$/);
    const tasks = page.getByTestId('tasks');
    await tasks.getByText('Prepare host').waitFor();
    // Filtered on the server: only the failed task is left.
    await page.locator('.ant-select').first().click();
    await page.getByTitle('FAILED').click();
    await tasks.getByText('Prepare host').waitFor({ state: 'detached' });
    await tasks.getByRole('link', { name: 'Gated' }).waitFor();
  });

  await step('task-retried', async () => {
    const id = process.env.OCP_FAILED_TASK;
    await page.getByRole('link', { name: 'Gated' }).click();
    await page.waitForURL(new RegExp(`/tasks/${id}$`));
    await page.getByTestId('task-status').getByText('FAILED').waitFor();
    // The failed subtask's log says why.
    await page.locator('[data-testid^="subtask-"][data-status="FAILED"]').click();
    await page.getByTestId('subtask-log').getByText(/gate/i).first().waitFor();
    writeFileSync(process.env.OCP_GATE, 'open');
    const loads = await page.evaluate(() => performance.getEntriesByType('navigation').length);
    await page.getByTestId('task-retry').click();
    await confirmDialog(page);
    await page.getByTestId('task-status').getByText('SUCCESSFUL').waitFor({ timeout: 30_000 });
    assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation').length), loads);
    assert.equal(await page.locator('[data-testid^="subtask-"][data-status="SUCCESSFUL"]').count(), 3);
    // The log of the chosen subtask follows its new run.
    await page.getByTestId('subtask-log').getByText(/gate exists/).waitFor();
  });

  await step('agent-restart', async () => {
    // From the hosts list, as a batch of the one host.
    await page.goto(`${base}/hosts`);
    await page.getByTestId('hosts').locator('tr[data-row-key] .ant-checkbox-input').first().check();
    await page.getByTestId('batch-restart').click();
    await confirmDialog(page);
    await page.waitForURL(/\/tasks\/\d+$/);
    await page.getByTestId('task-dag').waitFor();
    await page.getByTestId('task-status').getByText('SUCCESSFUL').waitFor({ timeout: 90_000 });
    const nodes = page.locator('[data-testid^="subtask-"]');
    assert.equal(
      await nodes.count(),
      await page.locator('[data-testid^="subtask-"][data-status="SUCCESSFUL"]').count(),
    );
  });

  await step('packages', async () => {
    await page.getByRole('menuitem', { name: 'Packages' }).click();
    await page.waitForURL(/\/packages$/);
    const dir = mkdtempSync(join(tmpdir(), 'ocp-console-'));
    try {
      const name = 'obproxy-4.2.1-20240101.el7.x86_64.rpm';
      writeFileSync(join(dir, name), Buffer.alloc(3 << 20, 7));
      await page.locator('input[type=file]').setInputFiles(join(dir, name));
      const row = page.getByTestId('packages').getByRole('row', { name: new RegExp(name) });
      await row.waitFor();
      assert.match(await row.innerText(), /3\.0 MiB/);
      await row.getByRole('button', { name: 'Delete' }).click();
      await confirmDialog(page);
      await row.waitFor({ state: 'detached' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  await step('users', async () => {
    await page.getByRole('menuitem', { name: 'Users and roles' }).click();
    await page.waitForURL(/\/users$/);
    await page.getByTestId('create-user').click();
    await page.fill('#new-username', 'bob');
    await page.fill('#new-password', 'short');
    await page.getByRole('button', { name: 'Confirm' }).click();
    // The server's refusal stands next to the field it names.
    await page.locator('.ant-form-item-explain-error').getByText(/8 to 32 characters/).waitFor();
    await page.fill('#new-password', 'Bob-Pass-1234');
    await page.locator('.ant-modal .ant-select').click();
    await page.getByTitle('HOST_VIEWER').click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    const row = page.getByTestId('users').getByRole('row', { name: /bob/ });
    await row.getByText('HOST_VIEWER').waitFor();
    await row.getByRole('button', { name: 'Lock' }).click();
    await confirmDialog(page);
    await row.getByText('Locked').waitFor();
    await row.getByRole('button', { name: 'Delete' }).click();
    await confirmDialog(page);
    await row.waitFor({ state: 'detached' });
  });

  await step('roles', async () => {
    await page.getByRole('tab', { name: 'Roles' }).click();
    await page.getByTestId('roles').getByText('HOST_VIEWER').waitFor();
    await page.getByTestId('create-role').click();
    await page.fill('#role-name', 'ops_reader');
    await page.locator('#role-permissions').fill('HOST:*:READ');
    await page.keyboard.press('Enter');
    // The permission list stays open over the dialog's buttons until the select loses focus.
    await page.locator('.ant-modal-title').click();
    await page.locator('.ant-select-dropdown:visible').waitFor({ state: 'detached', timeout: 5000 }).catch(() => {});
    await page.getByRole('button', { name: 'Confirm' }).click();
    const row = page.getByTestId('roles').getByRole('row', { name: /ops_reader/ });
    await row.getByText('HOST:*:READ').waitFor();
    await row.getByRole('button', { name: 'Delete' }).click();
    await confirmDialog(page);
    await row.waitFor({ state: 'detached' });
  });

  await step('logon-history', async () => {
    await page.getByRole('tab', { name: 'Logon history' }).click();
    const table = page.getByTestId('login-history');
    await table.getByText('Succeeded').first().waitFor();
    await table.getByText('Failed').first().waitFor();
  });

  await step('account', async () => {
    await page.getByTestId('user-menu').hover();
    await page.getByText('My account').click();
    await page.waitForURL(/\/account$/);
    await page.getByTestId('create-access-key').click();
    const secret = page.getByTestId('access-key-secret');
    await secret.waitFor();
    const [id] = (await secret.innerText()).split(':');
    const row = page.getByTestId('access-keys').getByRole('row', { name: new RegExp(id) });
    await row.waitFor();
    await row.getByRole('button', { name: 'Delete' }).click();
    await confirmDialog(page);
    await row.waitFor({ state: 'detached' });
  });

  await step('language', async () => {
    await page.getByTestId('language').hover();
    await page.getByText('简体中文').click();
    await page.getByRole('menuitem', { name: '主机' }).waitFor();
    await page.getByTestId('language').hover();
    await page.getByText('English').click();
    await page.getByRole('menuitem', { name: 'Hosts' }).waitFor();
  });

  await step('csrf-refused', async () => {
    const before = await inPage('GET', '/api/v2/iam/users?size=100');
    const forged = await inPage('POST', '/api/v2/iam/users', {
      csrf: false,
      body: { username: 'forged', password: 'Forged-123', roleIds: [] },
    });
    assert.equal(forged.status, 403, JSON.stringify(forged.body));
    const after = await inPage('GET', '/api/v2/iam/users?size=100');
    assert.equal(after.body.data.page.totalElements, before.body.data.page.totalElements);
  });

  await step('logout', async () => {
    await logOut();
    assert.equal((await inPage('GET', '/api/v2/iam/session')).status, 401);
  });

  await step('viewer', async () => {
    await logIn(process.env.OCP_VIEWER, process.env.OCP_VIEWER_PASSWORD);
    await page.waitForURL(/\/overview$/);
    // Navigation shows only what the viewer may read; the server refuses the rest anyway.
    await page.getByRole('menuitem', { name: 'Hosts' }).waitFor();
    assert.equal(await page.getByRole('menuitem', { name: 'Tasks' }).count(), 0);
    await page.getByRole('menuitem', { name: 'Packages' }).click();
    await page.getByTestId('packages').waitFor();
    assert.equal(await page.getByTestId('upload').count(), 0, 'a viewer is offered no upload');
    const refused = await inPage('POST', '/api/v2/iam/users', {
      body: { username: 'sneaky', password: 'Sneaky-123', roleIds: [] },
    });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
  });

});
