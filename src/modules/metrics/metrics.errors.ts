import { defineErrors } from '../../core/errors/app-error.js';

/** Error codes of scrape tokens (docs/metrics.md). */
export const metricsError = defineErrors({
  'scrape_token.not_found': {
    status: 404,
    title: 'Scrape token not found',
    description: 'No scrape token has this id (it may have been deleted).',
  },
  'scrape_token.exists': {
    status: 409,
    title: 'Scrape token already exists',
    description: 'Another scrape token has this name.',
  },
  'scrape_token.invalid_expiry': {
    status: 400,
    title: 'Expiry in the past',
    description: '`expiresAt` must lie in the future.',
  },
});
