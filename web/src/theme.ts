import { Badge, type CSSVariablesResolver, createTheme, DEFAULT_THEME } from '@mantine/core';

export const theme = createTheme({
  primaryColor: 'indigo',
  // The darkest shade keeps white text on filled buttons, switches and badges above WCAG AA contrast.
  primaryShade: 9,
  defaultRadius: 'md',
  autoContrast: true,
  // People who ask their system for less motion get no transitions.
  respectReducedMotion: true,
  fontFamily: 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  headings: { fontWeight: '650' },
  components: {
    // Pills read as words ("admin", "Active"), and a narrow table column must not cut them short.
    Badge: Badge.extend({ styles: { root: { textTransform: 'none', minWidth: 'max-content' } } }),
  },
});

/** Tints so light that no shade of their own colour reads on them; their light variants use dark text. */
const PALE_TINTS = new Set(['yellow', 'orange', 'lime', 'green', 'teal']);

/**
 * WCAG AA contrast in the light scheme: Mantine's "dimmed" grey, its error red and its light-variant text (badges, active
 * navigation, alerts) are shade 6, below 4.5:1 on their tinted backgrounds; shade 9 (or dark text) is not.
 */
export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    // Field errors are small text on white: shade 6 red is 3.6:1.
    '--mantine-color-error': 'var(--mantine-color-red-9)',
    ...Object.fromEntries(
      Object.keys(DEFAULT_THEME.colors).map((color) => [
        `--mantine-color-${color}-light-color`,
        PALE_TINTS.has(color) ? 'var(--mantine-color-dark-7)' : `var(--mantine-color-${color}-9)`,
      ]),
    ),
  },
  dark: { '--mantine-color-dimmed': 'var(--mantine-color-dark-1)' },
});
