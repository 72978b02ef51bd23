import { App } from '@oceanbase/design';

import { ApiError } from '../api/client';
import { useT } from '../i18n';

/**
 * Asks before a state-changing action: `confirm(title, action, { danger })` runs `action`
 * only when the user confirms, and keeps the dialog open (its button busy) while it runs.
 */
export function useConfirm() {
  const t = useT();
  const { modal } = App.useApp();
  return (title: string, action: () => Promise<unknown>, options: { danger?: boolean } = {}) =>
    modal.confirm({
      title,
      okText: t('common.confirm'),
      cancelText: t('common.cancel'),
      okButtonProps: { danger: options.danger },
      onOk: action,
    });
}

/**
 * Shows a server's refusal next to the form fields it names (a field such as
 * `permissions[2]` marks `permissions`), or else through `fallback`.
 */
export function showRefusal(
  setFields: (fields: { name: string; errors: string[] }[]) => void,
  error: unknown,
  fallback: (message: string) => void,
) {
  if (error instanceof ApiError && error.subErrors.length > 0) {
    setFields(error.subErrors.map((s) => ({ name: s.field.split('[')[0], errors: [s.message] })));
  } else {
    fallback(error instanceof Error ? error.message : String(error));
  }
}
