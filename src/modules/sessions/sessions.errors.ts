import { defineErrors } from '../../core/errors/app-error.js';

export const sessionError = defineErrors({
  'session.limit_reached': {
    status: 403,
    title: 'Session limit reached',
    description: 'The concurrent-session cap is reached; admins are never blocked by it.',
  },
  'session.not_found': {
    status: 404,
    title: 'Session not found',
    description: 'No session has this id (or, on /me/sessions, none of your sessions has it).',
  },
});
