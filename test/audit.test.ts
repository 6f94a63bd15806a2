// Every administrator action leaves one audit entry: who, what, when, the object before and after, the
// reason; written with the action, so a refused action leaves none. Never a password hash.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { makeVideo, type SignedIn, startAdminApp } from './helpers/admin.ts';
import { api, registerUser, type TestApp } from './helpers/app.ts';
import { assertProblem, badFields } from './helpers/problems.ts';

let t: TestApp;
let admin: SignedIn;
before(async () => {
  ({ t, admin } = await startAdminApp());
});
after(() => t.stop());

const as = (method: string, path: string, body?: unknown) =>
  api(t, method, `/api/v1/admin${path}`, { token: admin.access_token, body });
const auditOf = async (query: string) => {
  const res = await as('GET', `/audit?limit=100&${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items as {
    id: string;
    actor_id: string;
    action: string;
    target_type: string;
    target_id: string;
    reason: string | null;
    before: Record<string, unknown> | null;
    after: Record<string, unknown> | null;
    created_at: string;
  }[];
};

describe('the audit log', () => {
  it('records each account action with its actor, reason, and the account before and after', async () => {
    const started = Date.now();
    const created = await as('POST', '/users', {
      username: `audited${Date.now()}`,
      email: `audited${Date.now()}@example.test`,
      password: 'a fine long password',
      display_name: 'Audited',
    });
    const id = created.body.id as string;
    await as('PUT', `/users/${id}`, { display_name: 'Audited Again', role: 'admin' });
    await as('PUT', `/users/${id}/hide`, { reason: 'spam' });
    await as('PUT', `/users/${id}/restore`, { reason: 'appeal accepted' });
    await as('DELETE', `/users/${id}`, { reason: 'asked to leave' });

    const entries = (await auditOf(`target_type=user&target_id=${id}`)).reverse();
    assert.deepEqual(
      entries.map((e) => [e.action, e.reason, e.before?.status ?? null, e.after?.status]),
      [
        ['user.create', null, null, 'active'],
        ['user.update', null, 'active', 'active'],
        ['user.hide', 'spam', 'active', 'hidden'],
        ['user.restore', 'appeal accepted', 'hidden', 'active'],
        ['user.delete', 'asked to leave', 'active', 'deleted'],
      ],
    );
    for (const e of entries) {
      assert.equal(e.actor_id, admin.id);
      assert.equal(e.target_id, id);
      assert.ok(Date.parse(e.created_at) >= started - 1000);
    }
    const update = entries[1]!;
    assert.equal(update.before?.display_name, 'Audited');
    assert.equal(update.before?.role, 'user');
    assert.equal(update.after?.display_name, 'Audited Again');
    assert.equal(update.after?.role, 'admin');
    // The public view of the account only.
    const text = JSON.stringify(entries);
    assert.doesNotMatch(text, /password|argon2/i);
    assert.deepEqual(Object.keys(entries[0]!.after!).sort(), [
      'created_at',
      'display_name',
      'email',
      'id',
      'role',
      'status',
      'username',
    ]);
  });

  it('records each video decision with the video before and after', async () => {
    const owner = await registerUser(t);
    const video = await makeVideo(t, owner, 'Audited clip');
    await as('PUT', `/videos/${video}/hide`, { reason: 'nsfw thumbnail' });
    await as('PUT', `/videos/${video}/restore`);
    await as('PUT', `/videos/${video}/reject`, { reason: 'copyright' });
    await as('PUT', `/videos/${video}/reinstate`);
    const entries = (await auditOf(`target_type=video&target_id=${video}`)).reverse();
    assert.deepEqual(
      entries.map((e) => [e.action, e.reason]),
      [
        ['video.hide', 'nsfw thumbnail'],
        ['video.restore', null],
        ['video.reject', 'copyright'],
        ['video.reinstate', null],
      ],
    );
    const [hide, , reject] = entries;
    assert.deepEqual(
      [hide!.before?.hidden, hide!.after?.hidden, hide!.after?.moderation_reason],
      [false, true, 'nsfw thumbnail'],
    );
    assert.deepEqual([reject!.before?.publication, reject!.after?.publication], ['published', 'rejected']);
    assert.equal(reject!.after?.title, 'Audited clip');
    assert.equal(reject!.after?.owner_id, owner.id);
  });

  it('has no entry for a refused action', async () => {
    const u = await registerUser(t);
    assertProblem(await as('DELETE', `/users/${admin.id}`), 403, 'CANNOT_DELETE_SELF');
    assertProblem(await as('PUT', `/users/${admin.id}/hide`), 403, 'PERMISSION_DENIED');
    const other = await registerUser(t);
    // Refused inside the transaction, after the account was locked: nothing of it stays.
    assertProblem(await as('PUT', `/users/${u.id}`, { email: other.email }), 409, 'EMAIL_TAKEN');
    assertProblem(
      await as('POST', '/users', {
        username: u.username,
        email: 'fresh@example.test',
        password: 'a fine long password',
      }),
      409,
      'USERNAME_TAKEN',
    );
    assertProblem(await as('PUT', `/videos/${uuidv7()}/hide`), 404, 'VIDEO_NOT_FOUND');
    assert.deepEqual(await auditOf(`target_id=${admin.id}`), []);
    assert.deepEqual(await auditOf(`target_id=${u.id}`), []);
    const creations = (await auditOf('target_type=user')).filter((e) => e.action === 'user.create');
    assert.ok(!creations.some((e) => e.after?.email === 'fresh@example.test'));
  });

  it('filters by actor, target type and target, and pages without gaps', async () => {
    const second = await as('POST', '/users', {
      username: `deputy${Date.now()}`,
      email: `deputy${Date.now()}@example.test`,
      password: 'a fine long password',
      role: 'admin',
    });
    const deputy = await api(t, 'POST', '/api/v1/auth/login', {
      body: { username: second.body.username, password: 'a fine long password' },
    });
    const victims = [await registerUser(t), await registerUser(t), await registerUser(t)];
    for (const v of victims) {
      await api(t, 'PUT', `/api/v1/admin/users/${v.id}/hide`, { token: deputy.body.access_token });
    }
    const byDeputy = await auditOf(`actor_id=${second.body.id}`);
    assert.deepEqual(
      byDeputy.map((e) => e.target_id),
      victims.map((v) => v.id).reverse(),
    );
    const byChief = await auditOf(`actor_id=${admin.id}`);
    assert.ok(byChief.length > 0 && byChief.every((e) => e.actor_id === admin.id));
    assert.ok((await auditOf('target_type=video')).every((e) => e.target_type === 'video'));
    assert.ok((await auditOf('target_type=user')).every((e) => e.target_type === 'user'));
    assert.deepEqual(await auditOf('target_type=channel'), []);

    const all = (await auditOf('')).map((e) => e.id);
    assert.deepEqual([...all].sort().reverse(), all, 'newest first');
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await as('GET', `/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      paged.push(...res.body.items.map((e: { id: string }) => e.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.deepEqual(paged, all);

    assert.deepEqual(badFields(await as('GET', '/audit?actor_id=nope')), ['actor_id']);
    assert.deepEqual(badFields(await as('GET', '/audit?cursor=nope')), ['cursor']);
  });
});
