// Domain events: what a module declares (defineEvent), what it emits, and what subscribers receive.
import { uuidv7 } from 'uuidv7';
import type { z } from 'zod';

/** `aggregate.what_happened`, lower case: it is also the NATS subject, so dots separate tokens. */
const TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
/** An event type, or a prefix of one followed by `*` (`video.*`, `*`). */
const PATTERN = /^([a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+|([a-z][a-z0-9_]*\.)*\*)$/;

export class EventError extends Error {}

/** An event about to be written by emit(). */
export interface NewEvent<P = unknown> {
  id: string;
  type: string;
  aggregate: { type: string; id: string };
  payload: P;
  /** Absent: the time of the emitting transaction. */
  occurredAt?: Date;
  requestId?: string;
}

/** An event as a subscriber receives it. */
export interface DeliveredEvent<P = unknown> {
  id: string;
  type: string;
  aggregate: { type: string; id: string };
  payload: P;
  occurredAt: Date;
  requestId?: string;
}

export interface EventInput<P> {
  aggregateId: string;
  payload: P;
  requestId?: string;
  occurredAt?: Date;
}

export interface EventDefinition<P = unknown> {
  type: string;
  /** The kind of thing the event is about; events of one aggregate are delivered in order. */
  aggregate: string;
  payload: z.ZodType<P>;
  /** An event of this type, its payload checked against the schema. */
  create(input: EventInput<NoInfer<P>>): NewEvent<P>;
}

// biome-ignore lint/suspicious/noExplicitAny: a catalogue holds events of every payload type
export type AnyEventDefinition = EventDefinition<any>;

/**
 * Declares an event type and its payload. The aggregate defaults to the type's first token
 * (`video.uploaded` is about a `video`).
 */
export function defineEvent<P>(def: {
  type: string;
  payload: z.ZodType<P>;
  aggregate?: string;
}): EventDefinition<P> {
  assertType(def.type);
  const aggregate = def.aggregate ?? def.type.slice(0, def.type.indexOf('.'));
  return {
    type: def.type,
    aggregate,
    payload: def.payload,
    create(input) {
      return {
        id: uuidv7(),
        type: def.type,
        aggregate: { type: aggregate, id: input.aggregateId },
        payload: def.payload.parse(input.payload),
        occurredAt: input.occurredAt,
        requestId: input.requestId,
      };
    },
  };
}

export function assertType(type: string): void {
  if (!TYPE.test(type)) throw new EventError(`bad event type "${type}": use tokens like "video.uploaded"`);
}

export function assertPattern(pattern: string): void {
  if (!PATTERN.test(pattern)) {
    throw new EventError(`bad event pattern "${pattern}": use an event type, "video.*" or "*"`);
  }
}

/** The SQL LIKE pattern of an event pattern (`_` is a wildcard in LIKE, so it is escaped). */
export function likePattern(pattern: string): string {
  const escaped = pattern.replace(/[\\%_]/g, (c) => `\\${c}`);
  return escaped.endsWith('*') ? `${escaped.slice(0, -1)}%` : escaped;
}

export function matches(pattern: string, type: string): boolean {
  return pattern.endsWith('*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern;
}
