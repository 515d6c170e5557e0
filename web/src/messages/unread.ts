import { useEffect, useState } from 'react';
import { unreadCount } from './messages-api';

/*
 * The unread count the navigation shows. One number for the whole portal: the Messages screen tells it to look
 * again after it marks a thread read, so the badge drops at once instead of on the next page load.
 */

const listeners = new Set<(n: number) => void>();

export function refreshUnread(): void {
  unreadCount().then(
    (n) => listeners.forEach((l) => l(n)),
    // The badge is a hint: a failed count leaves it as it was (the screens say what went wrong).
    () => undefined
  );
}

/** The count, asked again on every change of screen (`path`): new messages show on the next click. */
export function useUnread(enabled: boolean, path: string): number | undefined {
  const [count, setCount] = useState<number>();
  useEffect(() => {
    if (!enabled) {
      return undefined;
    }
    listeners.add(setCount);
    refreshUnread();
    return () => {
      listeners.delete(setCount);
    };
  }, [enabled, path]);
  return count;
}
