import { defineErrors } from '../../core/errors/app-error.js';

export const settingsError = defineErrors({
  'password.policy': {
    status: 400,
    title: 'Password does not meet the policy',
    description: 'The new password breaks the password policy; `errors` lists one entry per failed rule.',
  },
  'password.reused': {
    status: 400,
    title: 'Password used before',
    description: 'The new password matches one of the last N passwords (policy `historyCount`).',
  },
  'settings.locks_out_requester': {
    status: 400,
    title: 'The change would lock you out',
    description:
      '`apiAllowFrom` would not include the address this request comes from; add it (or a network holding it). On the host, `warden settings set apiAllowFrom …` is not checked (the break-glass).',
  },
  'settings.invalid': {
    status: 400,
    title: 'Invalid settings',
    description: 'A settings document failed validation; `errors` lists each problem.',
  },
});
