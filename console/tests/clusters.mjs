// Drives the console's cluster pages in Debian's Chromium against a real server, agent and
// seekdb. Started by crates/ocp-server/tests/console.rs, which starts them, uploads the
// seekdb package and makes a cluster viewer. Env (besides kit.mjs's): OCP_ADMIN_PASSWORD,
// OCP_VIEWER, OCP_VIEWER_PASSWORD, OCP_SQL_PORT (a free port for the new cluster).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';

import { base, confirmDialog, run } from './kit.mjs';

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

/** SHOW GRANTS as `user` sees them, through Debian's mariadb client: one line a grant. */
function grantsOf(user, password) {
  const out = execFileSync(
    'mariadb',
    ['-h127.0.0.1', `-P${process.env.OCP_SQL_PORT}`, `-u${user}`, `-p${password}`, '-N', '-e', 'SHOW GRANTS'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return out.trim().split('\n').sort();
}

/** Retries `check` for up to 10 s, until it no longer throws. */
async function eventually(check) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

await run(async ({ page, step, inPage, logIn, logOut }) => {
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
    await confirmDialog(page);
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
    await confirmDialog(page);
    await page.getByTestId('value-plan_cache_evict_interval').getByText('7s').waitFor({ timeout: 15_000 });
  });

  await step('cluster-tenant', async () => {
    await page.getByRole('tab', { name: 'Tenant' }).click();
    const pane = page.getByTestId('tenant-pane');
    await pane.getByTestId('tenant-charset').getByText('utf8mb4').waitFor();
    await pane.getByTestId('tenant-units').getByText('zone1').waitFor();
    // The whitelist, set on the server (loopback stays admitted whatever it says). seekdb
    // takes a global variable as a schema change; once in a CI run it took over 15 s, so
    // the wait allows a statement's 20 s timeout and its one retry.
    await pane.getByTestId('edit-whitelist').click();
    await pane.getByTestId('whitelist-value').fill('10.0.0.0/8,127.0.0.1');
    await pane.getByTestId('whitelist-save').click();
    await pane.getByTestId('tenant-whitelist').getByText('10.0.0.0/8,127.0.0.1').waitFor({ timeout: 45_000 });
    // A system variable: a value of the wrong type refused in place, then set.
    await pane.getByPlaceholder('Search name or description').fill('max_allowed_packet');
    await pane.getByTestId('edit-max_allowed_packet').click();
    await pane.getByTestId('parameter-value').fill('soon');
    await pane.getByTestId('parameter-save').click();
    await pane.getByText('A number').waitFor();
    await pane.getByTestId('parameter-value').fill('33554432');
    await pane.getByTestId('parameter-save').click();
    await confirmDialog(page);
    await pane.getByTestId('value-max_allowed_packet').getByText('33554432').waitFor({ timeout: 15_000 });
  });

  await step('cluster-databases', async () => {
    await page.getByRole('tab', { name: 'Databases' }).click();
    await page.getByTestId('create-database').click();
    await page.fill('#database-name', 'shop');
    await page.locator('#database-save').click();
    await page.getByTestId('databases').getByText('shop', { exact: true }).waitFor();
  });

  await step('cluster-db-user', async () => {
    await page.getByRole('tab', { name: 'Users' }).click();
    await page.getByTestId('create-db-user').click();
    await page.fill('#db-user-name', 'app');
    await page.fill('#db-user-password', 'App-Pass-2026');
    await page.getByTestId('add-db-privilege').click();
    await page.locator('.ant-select-item-option', { hasText: 'shop' }).click();
    // The row appears as the database's option closes its list; a click in that moment
    // can be lost, so click until the box holds.
    const insert = page.getByTestId('db-privileges-shop').getByLabel('INSERT');
    for (let i = 0; i < 10 && !(await insert.isChecked()); i++) {
      await insert.click();
      await page.waitForTimeout(100);
    }
    assert.ok(await insert.isChecked(), 'INSERT is ticked');
    const preview = page.getByTestId('grant-preview');
    await preview.getByText('SELECT, INSERT').waitFor();
    await page.locator('#db-user-save').click();
    await page.getByTestId('db-users').getByText('app', { exact: true }).waitFor();
    // seekdb holds exactly what the page said it would grant.
    await eventually(() => {
      const grants = grantsOf('app', 'App-Pass-2026');
      assert.equal(grants.length, 2, grants.join('\n'));
      assert.match(grants[0], /^GRANT INSERT, SELECT ON `shop`\.\* TO 'app'/);
      assert.match(grants[1], /^GRANT USAGE ON \*\.\* TO 'app'/);
    });
  });

  await step('cluster-db-privileges', async () => {
    await page.getByTestId('privileges-app').click();
    await page.getByTestId('db-privileges-shop').getByLabel('INSERT').uncheck();
    await page.getByTestId('global-privileges').getByLabel('PROCESS').check();
    const preview = page.getByTestId('grant-preview');
    await preview.getByText('PROCESS').waitFor();
    const lines = (await preview.innerText()).split('\n').map((l) => l.trim()).filter(Boolean);
    assert.deepEqual(lines, ['GRANTPROCESS ON *.*', 'REVOKEINSERT ON shop.*']);
    await page.locator('#privileges-save').click();
    // (antd's ellipsis may render a cell's text twice for a moment while it measures.)
    await page.getByTestId('db-users').getByText('PROCESS', { exact: true }).first().waitFor();
    // seekdb applies a revoke to new sessions within moments, not at once.
    await eventually(() => {
      const grants = grantsOf('app', 'App-Pass-2026');
      assert.equal(grants.length, 2, grants.join('\n'));
      assert.match(grants[0], /^GRANT PROCESS ON \*\.\* TO 'app'/);
      assert.match(grants[1], /^GRANT SELECT ON `shop`\.\* TO 'app'/);
    });
  });

  await step('cluster-db-user-locked', async () => {
    await page.getByTestId('lock-app').click();
    await confirmDialog(page);
    await page.getByTestId('db-users').getByText('Locked').waitFor();
    await eventually(() => assert.throws(() => grantsOf('app', 'App-Pass-2026'), /locked|denied/i));
  });

  await step('cluster-tasks', async () => {
    await page.getByRole('tab', { name: 'Tasks' }).click();
    await page.getByTestId('tasks').getByText('Create primary OB cluster').first().waitFor();
  });

  await step('cluster-performance', async () => {
    await page.getByRole('tab', { name: 'Performance' }).click();
    // The agent reads the server's views every 10 s: the sessions chart gets points.
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="chart-ob_session_num"]')?.getAttribute('data-points')) > 0,
      null,
      { timeout: 60_000 },
    );
    await page.locator('[data-testid="chart-ob_session_num"] canvas').waitFor();
    await page.locator('[data-testid^="chart-host_cpu_percent-"]').first().waitFor();
  });

  await step('monitor', async () => {
    await page.getByRole('menuitem', { name: 'Monitoring' }).click();
    await page.getByText('Database servers').click();
    for (const metric of ['ob_sql_qps', 'ob_session_num']) {
      await page.getByTestId('metric-picker').click();
      await page.keyboard.type(metric);
      await page.locator('.ant-select-item-option', { hasText: `(${metric})` }).click();
      await page.keyboard.press('Escape');
    }
    for (const metric of ['ob_sql_qps', 'ob_session_num']) {
      await page.waitForFunction(
        (m) => Number(document.querySelector(`[data-testid="chart-${m}"]`)?.getAttribute('data-points')) > 0,
        metric,
        { timeout: 30_000 },
      );
    }
    // Auto-refresh can be paused.
    await page.getByTestId('auto-refresh').click();
    await page.locator('.ant-select-item-option', { hasText: 'Paused' }).click();
    await page.goto(clusterUrl);
  });

  await step('cluster-viewer', async () => {
    await logOut();
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
    // Each tab is read (what it lists is there) before the controls are looked for.
    for (const [tab, shown, controls] of [
      ['Databases', () => page.getByTestId('databases').getByText('shop', { exact: true }), ['create-database']],
      ['Users', () => page.getByTestId('db-users').getByText('app', { exact: true }), ['create-db-user', 'privileges-app', 'lock-app', 'unlock-app']],
      ['Roles', () => page.getByTestId('db-roles'), ['create-db-role']],
      ['Compaction', () => page.getByTestId('compaction'), ['start-compaction']],
    ]) {
      await page.getByRole('tab', { name: tab }).click();
      await shown().waitFor();
      for (const control of controls) {
        assert.equal(await page.getByTestId(control).count(), 0, `a viewer is offered no ${control} on ${tab}`);
      }
    }
    const id = clusterUrl.split('/').pop();
    const refused = await inPage('POST', `/api/v2/ob/clusters/${id}/restart`);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
  });

  await step('alert-items', async () => {
    await logOut();
    await logIn('admin', process.env.OCP_ADMIN_PASSWORD);
    await page.waitForURL(/\/overview$/);
    assert.equal(await page.getByTestId('open-alerts-3').innerText(), '0');
    await page.getByRole('menuitem', { name: 'Alerts' }).click();
    await page.getByRole('tab', { name: 'Alert items' }).click();
    // Lowered so far that every agent process is over it, evaluated every second.
    const item = 'host_agent_open_fd_count_over_threshold';
    await page.getByTestId(`edit-item-${item}`).click();
    await page.fill('#item-threshold', '1');
    await page.getByLabel('Evaluated every (s)').fill('1');
    await page.locator('#item-save').click();
    await page.getByTestId('alarm-items').getByText('max(host_agent_open_fd_count) > 1').waitFor();
  });

  await step('alert-events', async () => {
    await page.getByRole('tab', { name: 'Events' }).click();
    const events = page.getByTestId('events');
    await events.getByText('host_agent_open_fd_count_over_threshold').first().waitFor({ timeout: 60_000 });
    // The header counts them, by level, on every page.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="open-alerts-3"]')?.textContent) > 0, null, {
      timeout: 45_000,
    });
  });

  await step('alert-silenced', async () => {
    await page.getByTestId('events').locator('tr[data-row-key]', { hasText: 'ocp_monagent' }).first().click();
    await page.getByTestId('silence-event').click();
    await page.getByRole('tab', { name: 'Blocking conditions' }).click();
    await page.getByTestId('silencers').getByText('In effect').waitFor();
    await page.getByRole('tab', { name: 'Events' }).click();
    await page.getByTestId('event-status').click();
    await page.locator('.ant-select-item-option', { hasText: 'Silenced' }).click();
    await page.getByTestId('events').getByText('ocp_monagent').first().waitFor({ timeout: 30_000 });
  });

  await step('alert-channel-test', async () => {
    const received = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push(JSON.parse(body));
        response.end('thanks');
      });
    });
    await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      await page.getByRole('tab', { name: 'Channels' }).click();
      await page.getByTestId('create-channel').click();
      await page.fill('#channel-name', 'ops-hook');
      await page.fill('#channel-url', `http://127.0.0.1:${receiver.address().port}/hook`);
      await page.locator('#channel-save').click();
      await page.getByTestId('test-channel-ops-hook').click();
      const result = page.getByTestId('test-result');
      await result.getByText('HTTP 200: thanks').waitFor();
      assert.equal(received.length, 1);
      assert.equal(received[0].alarm_type, 'channel_test');
      await page.locator('.ant-modal-close').last().click();
    } finally {
      receiver.close();
    }
  });

  await step('alerts-viewer', async () => {
    await logOut();
    await logIn(process.env.OCP_VIEWER, process.env.OCP_VIEWER_PASSWORD);
    await page.waitForURL(/\/overview$/);
    await page.getByRole('menuitem', { name: 'Alerts' }).click();
    await page.getByTestId('events').locator('tr[data-row-key]').first().click();
    await page.getByTestId('event-detail').waitFor();
    assert.equal(await page.getByTestId('silence-event').count(), 0, 'a viewer silences nothing');
    await page.keyboard.press('Escape');
    await page.getByRole('tab', { name: 'Alert items' }).click();
    await page.getByTestId('alarm-items').locator('tr[data-row-key]').first().waitFor();
    assert.equal(await page.locator('[data-testid^="edit-item-"]').count(), 0, 'a viewer edits no item');
    await page.getByRole('tab', { name: 'Channels' }).click();
    await page.getByTestId('channels').getByText('ops-hook').waitFor();
    assert.equal(await page.getByTestId('create-channel').count(), 0, 'a viewer creates no channel');
    assert.equal(await page.getByTestId('test-channel-ops-hook').count(), 0, 'a viewer sends no test');
    await page.getByRole('menuitem', { name: 'Monitoring' }).click();
    await page.getByTestId('metric-picker').waitFor();
    await logOut();
    await logIn('admin', process.env.OCP_ADMIN_PASSWORD);
    await page.waitForURL(/\/overview$/);
  });

  await step('cluster-delete', async () => {
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
