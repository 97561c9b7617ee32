import { type CSSVariablesResolver, createTheme, type DEFAULT_THEME, darken, Modal } from '@mantine/core';

/**
 * The console's theme: Mantine's, with every colour that carries text made to meet WCAG 2.1 AA
 * (4.5:1, text of any size), so no page has to pick shades itself. Mantine's defaults do not:
 * dimmed grey on white is 3.32:1, white on a filled green badge 2.36:1, the yellow alert's
 * title on its own background 2.69:1. test/e2e/accessibility.e2e.ts runs axe-core on every page.
 */
export const theme = createTheme({
  primaryColor: 'indigo',
  defaultRadius: 'sm',
  components: {
    // Mantine's close button is an icon alone: without a name a screen reader says only "button".
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
  },
});

/** At least 4.5:1, with a margin for rounding. */
const AA = 4.6;

function luminance(hex: string): number {
  const n = Number.parseInt(hex.slice(1), 16);
  const [r, g, b] = [n >> 16, (n >> 8) & 255, n & 255].map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** `color`, darkened in small steps until it reaches AA against `background`. */
function darkenTo(color: string, background: string): string {
  let c = color;
  for (let step = 0.05; contrast(c, background) < AA && step < 1; step += 0.05)
    c = toHex(darken(color, step));
  return c;
}

/** Mantine's darken() answers rgb(…); the contrast sums want #rrggbb. */
function toHex(color: string): string {
  if (color.startsWith('#')) return color;
  const [r, g, b] = (color.match(/[\d.]+/g) ?? []).map(Number);
  return `#${[r, g, b]
    .map((v) =>
      Math.round(v ?? 0)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

/**
 * Per colour: *filled* (buttons, badges, `c="red"` text, outlines) is the first of shades 6–9 that
 * white text on it, or it on white, reaches AA — else shade 9 darkened until it does; *light-color*
 * (light badges, alert titles) is shade 9, darkened until it reads on the light background (shade 1).
 */
function accessibleColors(colors: typeof DEFAULT_THEME.colors): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [name, shades] of Object.entries(colors)) {
    if (name === 'dark') continue;
    const filled =
      shades.slice(6).find((s) => contrast(s, '#ffffff') >= AA) ?? darkenTo(shades[9]!, '#ffffff');
    vars[`--mantine-color-${name}-filled`] = filled;
    vars[`--mantine-color-${name}-filled-hover`] = toHex(darken(filled, 0.12));
    vars[`--mantine-color-${name}-outline`] = filled;
    vars[`--mantine-color-${name}-light-color`] = darkenTo(shades[9]!, shades[1]!);
  }
  return vars;
}

export const cssVariablesResolver: CSSVariablesResolver = (t) => ({
  variables: {},
  light: {
    ...accessibleColors(t.colors),
    // Mantine's gray.6 (#868e96) is 3.32:1 on white; this is 6.1:1 on white, 5.5:1 on gray.1.
    '--mantine-color-dimmed': '#5c636a',
    '--mantine-color-anchor': `var(--mantine-color-${t.primaryColor}-filled)`,
    '--mantine-color-error': 'var(--mantine-color-red-filled)',
    '--mantine-color-success': 'var(--mantine-color-teal-filled)',
  },
  dark: {},
});
