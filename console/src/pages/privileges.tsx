import { Button, Checkbox, Flex, Select, Space, Tag, Typography } from '@oceanbase/design';

import type { DbPrivilege, DbPrivilegeName, GlobalPrivilegeName } from '../api/types';
import { useT } from '../i18n';

// Every privilege the server grants, as its OpenAPI document lists them: a name missing
// here, or one it does not know, fails the type check.
const GLOBAL: Record<GlobalPrivilegeName, true> = {
  SELECT: true, INSERT: true, UPDATE: true, DELETE: true, CREATE: true, DROP: true, INDEX: true,
  ALTER: true, CREATE_VIEW: true, SHOW_VIEW: true, EXECUTE: true, ALTER_ROUTINE: true,
  CREATE_ROUTINE: true, REFERENCES: true, TRIGGER: true, LOCK_TABLES: true, CREATE_USER: true,
  PROCESS: true, SHOW_DB: true, SUPER: true, GRANT_OPTION: true, FILE: true, ALTER_SYSTEM: true,
  REPLICATION_SLAVE: true, REPLICATION_CLIENT: true, CREATE_TABLESPACE: true, SHUTDOWN: true,
  RELOAD: true, CREATE_ROLE: true, DROP_ROLE: true,
};
const DB: Record<DbPrivilegeName, true> = {
  SELECT: true, INSERT: true, UPDATE: true, DELETE: true, CREATE: true, DROP: true, INDEX: true,
  ALTER: true, CREATE_VIEW: true, SHOW_VIEW: true, EXECUTE: true, ALTER_ROUTINE: true,
  CREATE_ROUTINE: true, REFERENCES: true, TRIGGER: true, LOCK_TABLES: true,
};
export const GLOBAL_PRIVILEGES = Object.keys(GLOBAL);
export const DB_PRIVILEGES = Object.keys(DB);

/** The privileges a user has and should have: global ones and per database. */
export interface Grants {
  global: string[];
  databases: DbPrivilege[];
}

/** One change the editor will make: a grant or a revoke, on `*.*` or one database. */
export interface GrantChange {
  kind: 'grant' | 'revoke';
  on: string;
  privileges: string[];
}

/**
 * What turning `from` into `to` grants and revokes. Privileges the editor cannot offer (a
 * user may hold more than can be granted here) are left alone.
 */
export function diffGrants(from: Grants, to: Grants): GrantChange[] {
  const changes: GrantChange[] = [];
  const push = (kind: GrantChange['kind'], on: string, privileges: string[]) => {
    if (privileges.length > 0) changes.push({ kind, on, privileges });
  };
  const offered = (all: string[]) => (p: string) => all.includes(p);
  const globalFrom = from.global.filter(offered(GLOBAL_PRIVILEGES));
  push('grant', '*.*', to.global.filter((p) => !globalFrom.includes(p)));
  push('revoke', '*.*', globalFrom.filter((p) => !to.global.includes(p)));
  const names = [...new Set([...from.databases, ...to.databases].map((d) => d.dbName))];
  for (const name of names) {
    const before = (from.databases.find((d) => d.dbName === name)?.privileges ?? []).filter(offered(DB_PRIVILEGES));
    const after = to.databases.find((d) => d.dbName === name)?.privileges ?? [];
    push('grant', `${name}.*`, after.filter((p) => !before.includes(p)));
    push('revoke', `${name}.*`, before.filter((p) => !after.includes(p)));
  }
  return changes;
}

/** The changes as a list a DBA reads before confirming: GRANT ... ON ...; REVOKE ... */
export function GrantPreview({ changes }: { changes: GrantChange[] }) {
  const t = useT();
  if (changes.length === 0) {
    return <Typography.Text type="secondary">{t('privilege.noChange')}</Typography.Text>;
  }
  return (
    <Space direction="vertical" size={4} data-testid="grant-preview">
      {changes.map((c) => (
        <span key={`${c.kind}-${c.on}`}>
          <Tag color={c.kind === 'grant' ? 'green' : 'red'}>{c.kind === 'grant' ? 'GRANT' : 'REVOKE'}</Tag>
          {c.privileges.join(', ')} <Typography.Text type="secondary">ON</Typography.Text> {c.on}
        </span>
      ))}
    </Space>
  );
}

/** Global privileges and privileges per database, edited as checkboxes. */
export function GrantsEditor({
  value,
  onChange,
  databases,
}: {
  value: Grants;
  onChange: (next: Grants) => void;
  databases: string[];
}) {
  const t = useT();
  const unused = databases.filter((d) => !value.databases.some((g) => g.dbName === d));
  const setDb = (index: number, next: DbPrivilege | null) =>
    onChange({
      ...value,
      databases: next === null ? value.databases.filter((_, i) => i !== index) : value.databases.map((d, i) => (i === index ? next : d)),
    });
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="grants-editor">
      <Typography.Text strong>{t('privilege.global')}</Typography.Text>
      <Checkbox.Group
        data-testid="global-privileges"
        options={GLOBAL_PRIVILEGES.map((p) => ({ value: p, label: p }))}
        value={value.global.filter((p) => GLOBAL_PRIVILEGES.includes(p))}
        onChange={(checked: unknown[]) => onChange({ ...value, global: checked.map(String) })}
      />
      <Typography.Text strong>{t('privilege.databases')}</Typography.Text>
      {value.databases.map((d, i) => (
        <div key={d.dbName} data-testid={`db-privileges-${d.dbName}`} style={{ borderTop: '1px solid #f0f0f0', paddingTop: 8 }}>
          <Flex justify="space-between">
            <Typography.Text code>{d.dbName}</Typography.Text>
            <Button type="link" size="small" danger onClick={() => setDb(i, null)}>
              {t('common.delete')}
            </Button>
          </Flex>
          <Checkbox.Group
            options={DB_PRIVILEGES.map((p) => ({ value: p, label: p }))}
            value={d.privileges.filter((p) => DB_PRIVILEGES.includes(p))}
            onChange={(checked: unknown[]) => setDb(i, { ...d, privileges: checked.map(String) })}
          />
        </div>
      ))}
      <Select
        placeholder={t('privilege.addDatabase')}
        style={{ width: 260 }}
        value={null}
        data-testid="add-db-privilege"
        options={unused.map((d) => ({ value: d, label: d }))}
        onChange={(dbName: string) => onChange({ ...value, databases: [...value.databases, { dbName, privileges: ['SELECT'] }] })}
      />
    </Space>
  );
}
