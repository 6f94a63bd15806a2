// Tags (administrators curate them) and the tags each viewer prefers (at most 5), which drive
// recommendations. Preferences are cached per viewer for a short time; a change anywhere drops them on
// every node.
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { Db } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import { type NotifyHub, publish } from '../../platform/realtime/notify-hub.ts';
import type { AuditService } from '../audit/index.ts';
import { slugify } from './slug.ts';
import type { TagRow, Viewer } from './tags-repo.ts';
import * as repo from './tags-repo.ts';

export type { TagRow, Viewer } from './tags-repo.ts';

export const MAX_PREFERRED_TAGS = 5;
const PREFERENCES_TOPIC = 'discovery.preferences';
const PREFERENCES_TTL_MS = 30_000;
const PREFERENCES_MAX = 50_000;

const viewerKey = (v: Viewer) => ('userId' in v ? `u:${v.userId}` : `s:${v.sessionId}`);

export class TagsService {
  private readonly preferences = new Map<string, { slugs: string[]; until: number }>();

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
  ) {}

  /** Every node drops the preferences it cached when they change anywhere. */
  listen(hub: NotifyHub): void {
    hub.subscribe(PREFERENCES_TOPIC, (data) => {
      const key = (data as { key?: string }).key;
      if (key) this.preferences.delete(key);
      else this.preferences.clear();
    });
    hub.onReset(() => this.preferences.clear());
  }

  list(): Promise<TagRow[]> {
    return repo.listTags(this.db);
  }

  async create(actor: Principal, input: { name: string; slug?: string }): Promise<TagRow> {
    const row = { id: uuidv7(), name: input.name.trim(), slug: this.slugOf(input) };
    return this.db.transaction().execute(async (tx) => {
      const tag = await repo.insertTag(tx, row);
      if (!tag)
        throw new DomainError('TAG_EXISTS', `A tag named "${row.name}" or with slug "${row.slug}" exists`);
      await this.audit.record(tx, {
        actorId: actor.userId,
        action: 'tag.create',
        targetType: 'tag',
        targetId: tag.id,
        after: tag,
      });
      return tag;
    });
  }

  async update(actor: Principal, id: string, input: { name: string; slug?: string }): Promise<TagRow> {
    const patch = { name: input.name.trim(), slug: this.slugOf(input) };
    return this.db.transaction().execute(async (tx) => {
      const before = await repo.findTagForUpdate(tx, id);
      if (!before) throw new DomainError('TAG_NOT_FOUND');
      const clash = await sql<{ id: string }>`select id from tags
        where id <> ${id} and (slug = ${patch.slug} or lower(name) = lower(${patch.name}))`.execute(tx);
      if (clash.rows.length) throw new DomainError('TAG_EXISTS');
      const after = await repo.updateTag(tx, id, patch);
      await this.audit.record(tx, {
        actorId: actor.userId,
        action: 'tag.update',
        targetType: 'tag',
        targetId: id,
        before,
        after,
      });
      // Preferences hold tag ids; recommendations match slugs, so every cached choice is stale.
      await publish(tx, PREFERENCES_TOPIC, {});
      return after!;
    });
  }

  async remove(actor: Principal, id: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const before = await repo.findTagForUpdate(tx, id);
      if (!before) throw new DomainError('TAG_NOT_FOUND');
      await repo.deleteTag(tx, id);
      await this.audit.record(tx, {
        actorId: actor.userId,
        action: 'tag.delete',
        targetType: 'tag',
        targetId: id,
        before,
      });
      await publish(tx, PREFERENCES_TOPIC, {});
    });
  }

  preferred(viewer: Viewer): Promise<TagRow[]> {
    return repo.preferredTags(this.db, viewer);
  }

  async setPreferred(viewer: Viewer, tagIds: string[]): Promise<TagRow[]> {
    const ids = [...new Set(tagIds)];
    if (ids.length > MAX_PREFERRED_TAGS) {
      throw new DomainError('TAG_LIMIT_EXCEEDED', `At most ${MAX_PREFERRED_TAGS} tags`, {
        fields: [{ field: 'tag_ids', message: `at most ${MAX_PREFERRED_TAGS} tags` }],
      });
    }
    const tags = await this.db.transaction().execute(async (tx) => {
      // One change at a time per viewer: two at once would collide on the unique index.
      await sql`select pg_advisory_xact_lock(hashtextextended(${`tags.my:${viewerKey(viewer)}`}, 0))`.execute(
        tx,
      );
      const found = await repo.findTagsByIds(tx, ids);
      const missing = ids.filter((id) => !found.some((t) => t.id === id));
      if (missing.length) {
        throw new DomainError('TAG_NOT_FOUND', `No tag ${missing.join(', ')}`, {
          fields: [{ field: 'tag_ids', message: `unknown tag ${missing[0]}` }],
        });
      }
      await repo.replacePreferences(tx, viewer, ids);
      await publish(tx, PREFERENCES_TOPIC, { key: viewerKey(viewer) });
      return repo.preferredTags(tx, viewer);
    });
    // At once here; other nodes on the notification.
    this.preferences.delete(viewerKey(viewer));
    return tags;
  }

  /** The slugs a viewer prefers, cached briefly: recommendations ask on every request. */
  async preferredSlugs(viewer: Viewer): Promise<string[]> {
    const key = viewerKey(viewer);
    const cached = this.preferences.get(key);
    if (cached && cached.until > Date.now()) return cached.slugs;
    const slugs = (await repo.preferredTags(this.db, viewer)).map((t) => t.slug);
    this.preferences.delete(key);
    this.preferences.set(key, { slugs, until: Date.now() + PREFERENCES_TTL_MS });
    if (this.preferences.size > PREFERENCES_MAX) {
      const oldest = this.preferences.keys().next().value;
      if (oldest !== undefined) this.preferences.delete(oldest);
    }
    return slugs;
  }

  private slugOf(input: { name: string; slug?: string }): string {
    const slug = input.slug ?? slugify(input.name);
    if (!slug) {
      throw new DomainError('VALIDATION_FAILED', 'The name needs a letter or digit', {
        fields: [{ field: 'name', message: 'needs a letter or digit' }],
      });
    }
    return slug;
  }
}
