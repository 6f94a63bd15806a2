// An app with a first administrator signed in, and videos made ready by hand (no worker), for the
// tests of administrators' actions.
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { api, startTestApp, type TestApp } from './app.ts';
import { TEST_JWT_SECRET } from './tokens.ts';
import { uploadVideo } from './upload.ts';

export const ADMIN = { username: 'chief', email: 'chief@example.test', password: 'the admin password' };

export interface SignedIn {
  id: string;
  access_token: string;
  refresh_token: string;
}

export async function startAdminApp(): Promise<{ t: TestApp; admin: SignedIn }> {
  const t = await startTestApp(
    {
      JWT_SECRET: TEST_JWT_SECRET,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      ADMIN_USERNAME: ADMIN.username,
      REGISTER_LIMIT_PER_IP: '1000',
      LOGIN_LIMIT_PER_IP: '1000',
    },
    { role: 'api' },
  );
  const res = await api(t, 'POST', '/api/v1/auth/login', {
    body: { username: ADMIN.username, password: ADMIN.password },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { t, admin: { ...res.body, id: res.body.user.id } };
}

/** A published public video of `user`'s, as processing leaves it (done here by hand). */
export async function makeVideo(t: TestApp, user: { access_token: string }, title = 'Clip'): Promise<string> {
  const { videos } = t.app;
  const id = await uploadVideo(t, user.access_token, Buffer.alloc(2000, 7), { title });
  const started = await videos.startProcessing(id);
  assert.ok(started, 'the upload left the video with a source to process');
  await videos.markReady(id, started.media_version, []);
  return id;
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
