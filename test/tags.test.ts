import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type SignedIn, startAdminApp } from './helpers/admin.ts';
import { api, registerUser, type TestApp } from './helpers/app.ts';
import { assertProblem, badFields } from './helpers/problems.ts';

let t: TestApp;
let admin: SignedIn;
before(async () => {
  ({ t, admin } = await startAdminApp());
});
after(() => t.stop());

const guest = () => randomBytes(16).toString('hex');
const create = (body: unknown, token = admin.access_token) =>
  api(t, 'POST', '/api/v1/admin/tags', { token, body });
const auditOf = async (id: string) =>
  (
    await sql<{ action: string; actor_id: string; before: unknown; after: unknown }>`select action, actor_id,
      before, after from audit_log where target_type = 'tag' and target_id = ${id} order by id`.execute(
      t.app.database.db,
    )
  ).rows;

async function makeTags(names: string[]): Promise<{ id: string; slug: string; name: string }[]> {
  const made = [];
  for (const name of names) {
    const res = await create({ name });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    made.push(res.body);
  }
  return made;
}

describe('tags', () => {
  it('administrators create, rename and delete tags; each action is audited', async () => {
    const made = await create({ name: 'Hip Hop!' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.slug, 'hip-hop');
    assert.equal(made.body.name, 'Hip Hop!');
    const cjk = await create({ name: '日本 料理' });
    assert.equal(cjk.body.slug, '日本-料理');

    const listed = await api(t, 'GET', '/api/v1/tags');
    assert.equal(listed.status, 200);
    assert.ok(listed.body.items.some((x: { id: string }) => x.id === made.body.id));

    assertProblem(await create({ name: 'hip hop!' }), 409, 'TAG_EXISTS');
    assertProblem(await create({ name: 'Other', slug: 'hip-hop' }), 409, 'TAG_EXISTS');
    assert.deepEqual(badFields(await create({ name: 'Bad', slug: 'Not A Slug' })), ['slug']);
    assert.deepEqual(badFields(await create({ name: '!!!' })), ['name']);
    assert.deepEqual(badFields(await create({ name: '' })), ['name']);

    const renamed = await api(t, 'PUT', `/api/v1/admin/tags/${made.body.id}`, {
      token: admin.access_token,
      body: { name: 'Rap', slug: 'rap' },
    });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.deepEqual([renamed.body.name, renamed.body.slug], ['Rap', 'rap']);
    assertProblem(
      await api(t, 'PUT', `/api/v1/admin/tags/${cjk.body.id}`, {
        token: admin.access_token,
        body: { name: 'rap' },
      }),
      409,
      'TAG_EXISTS',
    );

    const removed = await api(t, 'DELETE', `/api/v1/admin/tags/${made.body.id}`, {
      token: admin.access_token,
    });
    assert.equal(removed.status, 204);
    assertProblem(
      await api(t, 'DELETE', `/api/v1/admin/tags/${made.body.id}`, { token: admin.access_token }),
      404,
      'TAG_NOT_FOUND',
    );
    const after = await api(t, 'GET', '/api/v1/tags');
    assert.ok(!after.body.items.some((x: { id: string }) => x.id === made.body.id));

    const audit = await auditOf(made.body.id);
    assert.deepEqual(
      audit.map((a) => a.action),
      ['tag.create', 'tag.update', 'tag.delete'],
    );
    assert.ok(audit.every((a) => a.actor_id === admin.id));
    assert.equal((audit[1]!.before as { slug: string }).slug, 'hip-hop');
    assert.equal((audit[1]!.after as { slug: string }).slug, 'rap');
    assert.equal((audit[2]!.before as { name: string }).name, 'Rap');
  });

  it('only administrators manage tags', async () => {
    const user = await registerUser(t);
    assertProblem(await create({ name: 'mine' }, user.access_token), 403, 'ADMIN_REQUIRED');
    assertProblem(
      await api(t, 'POST', '/api/v1/admin/tags', { body: { name: 'anon' } }),
      401,
      'TOKEN_MISSING',
    );
    const [tag] = await makeTags(['Protected']);
    assertProblem(
      await api(t, 'DELETE', `/api/v1/admin/tags/${tag!.id}`, { token: user.access_token }),
      403,
      'ADMIN_REQUIRED',
    );
    assert.equal((await auditOf(tag!.id)).length, 1);
  });
});

describe('preferred tags', () => {
  it('a signed-in user keeps up to 5; a sixth is refused with TAG_LIMIT_EXCEEDED', async () => {
    const tags = await makeTags(['Alpha', 'Beta', 'Gamma', 'Delta', 'Epsilon', 'Zeta']);
    const user = await registerUser(t);
    const put = (ids: string[]) =>
      api(t, 'PUT', '/api/v1/tags/my', { token: user.access_token, body: { tag_ids: ids } });
    const five = await put(tags.slice(0, 5).map((x) => x.id));
    assert.equal(five.status, 200, JSON.stringify(five.body));
    assert.equal(five.body.items.length, 5);

    const six = await put(tags.map((x) => x.id));
    assertProblem(six, 422, 'TAG_LIMIT_EXCEEDED');
    assert.deepEqual(
      six.body.errors.map((e: { field: string }) => e.field),
      ['tag_ids'],
    );
    const mine = await api(t, 'GET', '/api/v1/tags/my', { token: user.access_token });
    assert.deepEqual(
      mine.body.items.map((x: { id: string }) => x.id).sort(),
      tags
        .slice(0, 5)
        .map((x) => x.id)
        .sort(),
    );

    // The same tag twice counts once; replacing keeps only the new choice.
    const again = await put([tags[5]!.id, tags[5]!.id]);
    assert.deepEqual(
      again.body.items.map((x: { id: string }) => x.id),
      [tags[5]!.id],
    );
    assertProblem(await put(['01890000-0000-7000-8000-000000000000']), 404, 'TAG_NOT_FOUND');
    assert.deepEqual(badFields(await put(['not-a-uuid'])), ['tag_ids.0']);
  });

  it("a guest's choice lives under its session id, apart from everyone else's", async () => {
    const [a, b] = await makeTags(['Guest One', 'Guest Two']);
    const s1 = guest();
    const s2 = guest();
    const put = await api(t, 'PUT', '/api/v1/tags/my', { body: { session_id: s1, tag_ids: [a!.id, b!.id] } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const mine = await api(t, 'GET', `/api/v1/tags/my?session_id=${s1}`);
    assert.deepEqual(mine.body.items.map((x: { slug: string }) => x.slug).sort(), ['guest-one', 'guest-two']);
    const other = await api(t, 'GET', `/api/v1/tags/my?session_id=${s2}`);
    assert.deepEqual(other.body.items, []);

    assert.deepEqual(badFields(await api(t, 'GET', '/api/v1/tags/my')), ['session_id']);
    assert.deepEqual(badFields(await api(t, 'GET', '/api/v1/tags/my?session_id=short')), ['session_id']);
    assert.deepEqual(badFields(await api(t, 'PUT', '/api/v1/tags/my', { body: { tag_ids: [a!.id] } })), [
      'session_id',
    ]);
    const six = await makeTags(['G1', 'G2', 'G3', 'G4', 'G5', 'G6']);
    assertProblem(
      await api(t, 'PUT', '/api/v1/tags/my', { body: { session_id: s2, tag_ids: six.map((x) => x.id) } }),
      422,
      'TAG_LIMIT_EXCEEDED',
    );

    // A deleted tag leaves every choice that held it.
    await api(t, 'DELETE', `/api/v1/admin/tags/${a!.id}`, { token: admin.access_token });
    const left = await api(t, 'GET', `/api/v1/tags/my?session_id=${s1}`);
    assert.deepEqual(
      left.body.items.map((x: { id: string }) => x.id),
      [b!.id],
    );
  });
});
