import '@mantine/core/styles.css';
import { MantineProvider, createTheme } from '@mantine/core';
import type { CSSVariablesResolver, MantineColorsTuple } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { ErrorBoundary } from './ui/ErrorBoundary';

// WCAG AA contrast (4.5:1) for white text on buttons in every state: Mantine's teal with its two darkest shades
// darkened (filled buttons use shade 8, and shade 9 on hover), and its gray.6 "dimmed" text made darker.
const hale: MantineColorsTuple = [
  '#e6fcf5',
  '#c3fae8',
  '#96f2d7',
  '#63e6be',
  '#38d9a9',
  '#20c997',
  '#12b886',
  '#0ca678',
  '#08705a',
  '#065f46',
];
const theme = createTheme({ primaryColor: 'hale', primaryShade: 8, colors: { hale } });
const darkerDimmed: CSSVariablesResolver = () => ({
  variables: {},
  light: { '--mantine-color-dimmed': '#555d65' },
  dark: {},
});

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={darkerDimmed}>
      <ErrorBoundary>
        <App />
      </ErrorBoundary>
    </MantineProvider>
  </StrictMode>
);
