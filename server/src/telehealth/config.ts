import { z } from 'zod';

/**
 * Telehealth join links (TELEHEALTH_*), merged into the server's config schema (config.ts). Hale
 * builds no video service in: the link is the configured template with the appointment's id and an
 * unguessable room token filled in, so any vendor (or a self-hosted room server) that takes a room
 * name in its URL works. The token is an HMAC of the appointment id under TELEHEALTH_ROOM_SECRET:
 * every replica derives the same link, nothing secret is stored in the Appointment, and only the
 * operations that check who is asking ($join, $start-visit) ever show it.
 */
export const TELEHEALTH_ENV = {
  TELEHEALTH_URL_TEMPLATE: z
    .string()
    .refine(
      (v) => v.includes('{room}') && isHttpUrl(v.replaceAll('{room}', 'r').replaceAll('{appointment}', 'a')),
      'an http(s) URL containing {room} (and optionally {appointment}), e.g. https://video.example.org/hale/{room}'
    )
    .optional(),
  TELEHEALTH_ROOM_SECRET: z
    .string()
    .regex(/^[\x21-\x7e]{32,}$/, 'at least 32 printable characters without spaces (openssl rand -hex 32)')
    .optional(),
};

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

export interface TelehealthConfig {
  /** The join-link template ({appointment}, {room}); undefined: telehealth links are off. */
  urlTemplate: string | undefined;
  /** The key room tokens are derived with (required with a template). */
  roomSecret: string | undefined;
}

type TelehealthEnv = { [K in keyof typeof TELEHEALTH_ENV]?: z.infer<(typeof TELEHEALTH_ENV)[K]> };

/** Why these settings cannot start a server, or undefined when they can. */
export function telehealthConfigProblem(e: TelehealthEnv): string | undefined {
  return e.TELEHEALTH_URL_TEMPLATE && !e.TELEHEALTH_ROOM_SECRET
    ? 'TELEHEALTH_ROOM_SECRET: required when TELEHEALTH_URL_TEMPLATE is set'
    : undefined;
}

export function telehealthConfigOf(e: TelehealthEnv): TelehealthConfig {
  return { urlTemplate: e.TELEHEALTH_URL_TEMPLATE, roomSecret: e.TELEHEALTH_ROOM_SECRET };
}

export const TELEHEALTH_OFF: TelehealthConfig = { urlTemplate: undefined, roomSecret: undefined };
