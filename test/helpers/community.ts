// Community test moves that have no route of their own yet: events emitted as their modules would,
// channel memberships set through the channels service, and a video published by its owner.
import assert from 'node:assert/strict';
import { emit } from '../../src/platform/events/emit.ts';
import type { NewEvent } from '../../src/platform/events/event.ts';
import { api, type TestApp } from './app.ts';
import { insertVideo, type VideoRowInput } from './discovery-rows.ts';

/** Emits an event in a transaction of its own, as the module that owns it does. */
export async function emitEvent(t: TestApp, event: NewEvent): Promise<void> {
  await t.app.database.db.transaction().execute((tx) => emit(tx, event));
}

/** The channel of a signed-in user. */
export async function channelOf(t: TestApp, user: { access_token: string }): Promise<string> {
  const res = await api(t, 'GET', '/api/v1/users/me', { token: user.access_token });
  assert.equal(res.status, 200);
  return res.body.channel_id as string;
}

/** Makes `userId` a member of the channel at `tier` (1 subscriber, 2 premium, null none). */
export async function setMembership(
  t: TestApp,
  channelId: string,
  userId: string,
  tier: 1 | 2 | null,
): Promise<void> {
  await t.app.database.db
    .transaction()
    .execute((tx) => t.app.services.channels.setMembership(tx, channelId, userId, tier));
}

/**
 * A draft video of `owner`'s, ready to play, then published by its owner through the videos service
 * (which emits video.published, as the publish route does); answers its id.
 */
export async function publishAsOwner(
  t: TestApp,
  owner: { id: string },
  v: Omit<VideoRowInput, 'publication'> = { title: 'Fresh' },
): Promise<string> {
  const id = await insertVideo(t, owner.id, { ...v, publication: 'draft' });
  const principal = { userId: owner.id, sessionId: 'test', role: 'user' as const };
  await t.app.videos.publishing.setPublication(id, principal, { published: true });
  return id;
}
