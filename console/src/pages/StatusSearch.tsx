import { Input, Select, Space } from '@oceanbase/design';

import { useT } from '../i18n';

/** A list's filters by status (several) and by text; either change goes back to page one. */
export function StatusSearch({
  statuses,
  status,
  onStatus,
  onSearch,
}: {
  statuses: readonly string[];
  status: string[];
  onStatus: (status: string[]) => void;
  onSearch: (text: string) => void;
}) {
  const t = useT();
  return (
    <Space style={{ marginBottom: 16 }}>
      <Select
        mode="multiple"
        allowClear
        style={{ minWidth: 220 }}
        placeholder={t('common.status')}
        options={statuses.map((s) => ({ value: s, label: s }))}
        value={status}
        onChange={onStatus}
      />
      <Input.Search allowClear placeholder={t('common.search')} onSearch={onSearch} />
    </Space>
  );
}
