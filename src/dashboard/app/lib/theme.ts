import { useEffect, useState } from 'preact/hooks';

/**
 * Light and dark: the system's preference unless the toggle chose one (kept in localStorage).
 * Charts draw on canvas, so they read the palette from the CSS variables and redraw on a change.
 */
export type ThemeChoice = 'light' | 'dark' | 'system';
const KEY = 'pertoken.theme';

function stored(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

function systemDark(): boolean {
  return window.matchMedia('(prefers-color-scheme: dark)').matches;
}

export function applyTheme(choice: ThemeChoice): 'light' | 'dark' {
  const effective = choice === 'system' ? (systemDark() ? 'dark' : 'light') : choice;
  document.documentElement.dataset.theme = effective;
  return effective;
}

export function useTheme(): { theme: 'light' | 'dark'; choice: ThemeChoice; toggle(): void } {
  const [choice, setChoice] = useState<ThemeChoice>(stored);
  const [theme, setTheme] = useState<'light' | 'dark'>(() => applyTheme(stored()));
  useEffect(() => {
    setTheme(applyTheme(choice));
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    const onChange = (): void => setTheme(applyTheme(choice));
    media.addEventListener('change', onChange);
    return () => media.removeEventListener('change', onChange);
  }, [choice]);
  return {
    theme,
    choice,
    toggle() {
      const next: ThemeChoice = theme === 'dark' ? 'light' : 'dark';
      try {
        localStorage.setItem(KEY, next);
      } catch {
        // Private mode: the choice lasts for this page only.
      }
      setChoice(next);
    },
  };
}

export interface Palette {
  text: string;
  muted: string;
  grid: string;
  surface: string;
  accent: string;
  danger: string;
  series: string[];
}

export function palette(): Palette {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string): string => css.getPropertyValue(name).trim();
  return {
    text: v('--text'),
    muted: v('--muted'),
    grid: v('--grid'),
    surface: v('--surface'),
    accent: v('--accent'),
    danger: v('--danger'),
    series: [1, 2, 3, 4, 5, 6, 7, 8].map((i) => v(`--series-${i}`)),
  };
}
