import { useEffect, useState } from 'react';

/*
 * A few screens do not need a router library: the path is the state, links push history entries, and the
 * back button gives a popstate. Screens read their parameters from the path.
 */

const listeners = new Set<() => void>();

export function navigate(path: string, replace = false): void {
  if (replace) {
    window.history.replaceState(null, '', path);
  } else {
    window.history.pushState(null, '', path);
  }
  listeners.forEach((l) => l());
}

export function usePath(): string {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const update = (): void => setPath(window.location.pathname);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return path;
}
