import { MESSAGE_CATEGORY_SYSTEM } from '../scheduling/vocabulary';

export { MESSAGE_CATEGORY_SYSTEM };

/** Communication.category of a thread's header and of each message in it. */
export const THREAD = { system: MESSAGE_CATEGORY_SYSTEM, code: 'thread' } as const;
export const MESSAGE = { system: MESSAGE_CATEGORY_SYSTEM, code: 'message' } as const;

/** The notification category of "you have a new message" (bots/src/lib/vocabulary.ts NOTIFICATION_CATEGORIES). */
export const MESSAGE_RECEIVED = 'message-received';

/** Longest message text and topic accepted. */
export const MAX_TEXT = 10_000;
export const MAX_TOPIC = 200;
