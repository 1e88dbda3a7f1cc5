import type { User } from '../../api/types';

/** The row actions that open a dialog. */
export type UserAction =
  | 'edit'
  | 'password'
  | 'rotateSecret'
  | 'deactivate'
  | 'reactivate'
  | 'resetMfa'
  | 'apiKeys'
  | 'delete';

/** Which dialog of the users page is open. */
export type UserDialog = { readonly kind: 'create' } | { readonly kind: UserAction; readonly user: User };
