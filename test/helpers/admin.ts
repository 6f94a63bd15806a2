// An app with a first administrator signed in (by default no worker: videos are processed and jobs run
// by hand), for the tests of administrators' actions and of what they see.
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { AppOptions } from '../../src/app.ts';
import { api, startTestApp, type TestApp } from './app.ts';
import { TEST_JWT_SECRET } from './tokens.ts';
import { makeVideo as makeVideoIn } from './videos.ts';

export const ADMIN = { username: 'chief', email: 'chief@example.test', password: 'the admin password' };

export interface SignedIn {
  id: string;
  access_token: string;
  refresh_token: string;
}

export interface AdminAppOptions {
  /** More settings, or other values for the ones set here. */
  env?: Record<string, string>;
  /** Which processes run; `api` (the default) has no worker. */
  role?: AppOptions['role'];
  /** The first administrator's account, instead of ADMIN. */
  account?: typeof ADMIN;
}

export async function startAdminApp(o: AdminAppOptions = {}): Promise<{ t: TestApp; admin: SignedIn }> {
  const account = o.account ?? ADMIN;
  const t = await startTestApp(
    {
      JWT_SECRET: TEST_JWT_SECRET,
      ADMIN_EMAIL: account.email,
      ADMIN_PASSWORD: account.password,
      ADMIN_USERNAME: account.username,
      REGISTER_LIMIT_PER_IP: '1000',
      LOGIN_LIMIT_PER_IP: '1000',
      ...o.env,
    },
    { role: o.role ?? 'api' },
  );
  const res = await api(t, 'POST', '/api/v1/auth/login', {
    body: { username: account.username, password: account.password },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { t, admin: { ...res.body, id: res.body.user.id } };
}

/** A published public video of `user`'s, processed by hand, with a segment and a poster in the store. */
export async function makeVideo(t: TestApp, user: { access_token: string }, title = 'Clip'): Promise<string> {
  return makeVideoIn(t, user, 'ready', { title });
}

/** Every stored object of a video: its source and its media. */
export async function storedObjectsOf(t: TestApp, id: string): Promise<string[]> {
  const objects = [
    ...(await t.app.store.list(`videos/${id}/`)),
    ...(await t.app.store.list(`sources/${id}/`)),
  ];
  return objects.map((o) => o.key);
}

/** The catalog events emitted about one aggregate (a video or a user), oldest first. */
export async function eventsOf(
  t: TestApp,
  aggregateId: string,
): Promise<{ type: string; payload: Record<string, unknown> }[]> {
  const { rows } = await sql<{ type: string; payload: Record<string, unknown> }>`
    select type, payload from outbox_events where aggregate_id = ${aggregateId}
    order by order_txid, position`.execute(t.app.database.db);
  return rows;
}
