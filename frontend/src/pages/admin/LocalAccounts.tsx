// EduGraph password accounts of the school: who, linked to which Microsoft account, and
// delete (with its link, tokens, roles and sessions) after a confirmation.
import { useState } from 'react';
import { api, type Me, type Schemas } from '../../api/client';
import { byId, localAccountsQuery } from '../../api/queries';
import { formatWhen } from '../../lib/time';
import { ActionError, Alert, ConfirmButton, Empty, ErrorState, Loading, useLoad } from '../../ui';
import { AdminPage } from './common';

type Account = Schemas['AdminLocalAccount'];

export function AdminLocalAccounts({ me }: { me: Me }) {
  const list = useLoad(localAccountsQuery());
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text?: string; error?: unknown }>();

  const remove = async (a: Account) => {
    setBusy(a.user_id);
    setNotice(undefined);
    try {
      await api.DELETE('/api/admin/local-accounts/{id}', byId(a.user_id));
      list.setData((d) => ({ items: d.items.filter((x) => x.user_id !== a.user_id) }));
      setNotice({
        kind: 'success',
        text: `The account ${a.email} was deleted${a.link_id ? ', with its link to Microsoft' : ''}. Its sessions ended.`,
      });
    } catch (err) {
      setNotice({ kind: 'error', error: err });
    } finally {
      setBusy(null);
    }
  };

  return (
    <AdminPage title="Local accounts">
      <p className="hint">
        EduGraph password accounts of your school (people who registered with an email and password, linked or not to
        their Microsoft 365 account).
      </p>
      {notice?.kind === 'success' && <Alert kind="success">{notice.text}</Alert>}
      {notice?.kind === 'error' && <ActionError error={notice.error} />}
      {list.status === 'loading' && <Loading label="Loading local accounts…" />}
      {list.status === 'error' && <ErrorState error={list.error} retry={list.reload} />}
      {list.status === 'ready' && list.data.items.length === 0 && (
        <Empty>
          <p>Your school has no EduGraph password accounts.</p>
        </Empty>
      )}
      {list.status === 'ready' && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table table-stack">
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">Linked Microsoft account</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((a) => (
                <tr key={a.user_id}>
                  <td>
                    {a.display_name}
                    <div className="muted small">{a.email}</div>
                    {a.disabled && <span className="badge badge-disabled">Disabled</span>}
                  </td>
                  <td data-label="Linked Microsoft account">{a.microsoft_upn ?? <span className="muted">not linked</span>}</td>
                  <td data-label="Created">{formatWhen(a.created_at)}</td>
                  <td>
                    <div className="actions-cell">
                      {a.user_id === me.user.id ? (
                        <span className="muted small">This is you</span>
                      ) : (
                        <ConfirmButton
                          small
                          danger
                          label="Delete"
                          ariaLabel={`Delete ${a.email}`}
                          question={`Delete ${a.email}${a.link_id ? ' and its link to Microsoft' : ''}? This cannot be undone.`}
                          confirmLabel="Yes, delete"
                          onConfirm={() => remove(a)}
                          busy={busy === a.user_id}
                        />
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </AdminPage>
  );
}
