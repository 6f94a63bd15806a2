// The one module contract. A module (src/modules/<name>/index.ts) exports one definition; the
// composition root builds the modules in order and registers what each answers: its routes, its jobs,
// its event subscribers, and start/stop hooks. Modules reach each other only through the services that
// earlier modules expose here, and through events.
import type { Config } from '../../config.ts';
import type { Db } from '../db/database.ts';
import type { EventBus, EventHandler, SubscribeOptions } from '../events/bus.ts';
import type { EventDefinition } from '../events/event.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { HttpServer } from '../http/server.ts';
import type { AnyJob } from '../jobs/definition.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { NotifyHub } from '../realtime/notify-hub.ts';
import type { ObjectStore } from '../storage/object-store.ts';

/**
 * The services modules expose, by module name. Each module adds its own entry with a declaration
 * (`declare module '…/define-module.ts' { interface ModuleServices { videos: VideosService } }`), so a
 * module that uses another gets its type without importing anything but that module's index.ts.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging, one entry per module
export interface ModuleServices {}

export type ModuleName = keyof ModuleServices;

/** What the platform hands every module. */
export interface ModuleContext {
  config: Config;
  /** The module's own logger (`area: vireo:<name>`). */
  logger: Logger;
  db: Db;
  /** For connections a module keeps for itself (upload locks). */
  databaseUrl: string;
  store: ObjectStore;
  hub: NotifyHub;
  events: Pick<EventBus, 'emit'>;
  /** The platform secret (JWT signing key): modules derive their own keys from it. */
  secret: string;
  limiter: RateLimiter;
  metrics: Metrics;
  /** The service of a module built before this one; a module listed later fails the boot. */
  use<N extends ModuleName>(name: N): ModuleServices[N];
}

/** A named handler of one event type (or pattern), run by the event relay. */
export interface Subscriber {
  // biome-ignore lint/suspicious/noExplicitAny: subscribers of every payload type sit in one list
  event: EventDefinition<any> | string;
  /** Stable: the relay keeps each subscriber's progress under this name. */
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: see event
  handler: EventHandler<any>;
  options?: SubscribeOptions;
}

export function defineSubscriber<P>(subscriber: {
  event: EventDefinition<P>;
  name: string;
  handler: EventHandler<P>;
  options?: SubscribeOptions;
}): Subscriber {
  return subscriber;
}

/** What a module answers when it is built. Every part is optional. */
export interface ModuleParts<S> {
  /** What other modules may call (ctx.use(name)). */
  service?: S;
  /** Registered on roles that serve HTTP. */
  routes?(http: HttpServer): void;
  /** Registered on every role: an API node enqueues what workers run, and the boot checks both. */
  jobs?: AnyJob[];
  subscribers?: Subscriber[];
  /** After every module is built and before the app serves. */
  start?(): Promise<void>;
  /** At shutdown, in reverse order, once no request or job runs any more. */
  stop?(): Promise<void>;
}

export interface ModuleDefinition<N extends string = string> {
  name: N;
  setup(ctx: ModuleContext): ModuleParts<N extends ModuleName ? ModuleServices[N] : never>;
}

export function defineModule<N extends string>(definition: ModuleDefinition<N>): ModuleDefinition<N> {
  return definition;
}

export class ModuleError extends Error {}
