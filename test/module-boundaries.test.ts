// The house rules, checked over the source so that CI fails when one is broken:
// - the platform never imports a module (nor the composition root);
// - another module is entered only through its index.ts;
// - modules do not depend on each other in a cycle;
// - a table is written (insert, update, delete, row locks) by its one owner only.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';

const root = path.resolve(import.meta.dirname, '..');
const src = path.join(root, 'src');

/** Who writes each table; docs/architecture.md lists the same owners. */
export const TABLE_OWNERS: Record<string, string> = {
  platform_secrets: 'platform',
  rate_limit_counters: 'platform',
  outbox_events: 'platform',
  outbox_subscriptions: 'platform',
  outbox_relay: 'platform',
  users: 'accounts',
  sessions: 'accounts',
  refresh_tokens: 'accounts',
  videos: 'videos',
  channels: 'channels',
  channel_memberships: 'channels',
  video_stats: 'views',
  video_views_daily: 'views',
  video_view_marks: 'views',
  audit_log: 'audit',
  upload_reservations: 'uploads',
  idempotency_keys: 'platform',
  webhook_endpoints: 'webhooks',
  webhook_deliveries: 'webhooks',
  webhook_attempts: 'webhooks',
  tags: 'discovery',
  tag_preferences: 'discovery',
  follows: 'social',
  user_follow_counts: 'social',
  comments: 'comments',
  video_comment_counts: 'comments',
  likes: 'likes',
  like_counts: 'likes',
  user_like_counts: 'likes',
  collections: 'collections',
  collection_items: 'collections',
  viewer_states: 'viewing',
  notifications: 'notifications',
  notification_settings: 'notifications',
  push_subscriptions: 'notifications',
  trending_videos: 'trending',
  trending_tags: 'trending',
};

interface SourceFile {
  file: string;
  text: string;
}

async function sources(): Promise<SourceFile[]> {
  const names = (await fs.readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts'));
  return Promise.all(
    names.map(async (f) => ({ file: path.join(src, f), text: await fs.readFile(path.join(src, f), 'utf8') })),
  );
}

/** Relative imports and re-exports of a file, static and dynamic, resolved to absolute paths. */
export function importsOf({ file, text }: SourceFile): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s+'([^']+)'/g, /\bimport\s*\(\s*'([^']+)'\s*\)/g, /^\s*import\s+'([^']+)'/gm];
  for (const pattern of patterns) {
    for (const m of text.matchAll(pattern)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) found.push(path.resolve(path.dirname(file), spec));
    }
  }
  // `declare module '…'` blocks name the module contract's file to extend it: an import too.
  for (const m of text.matchAll(/^declare module\s+'([^']+)'/gm)) {
    found.push(path.resolve(path.dirname(file), m[1]!));
  }
  return found;
}

/** `videos` for src/modules/videos/…; `platform` for src/platform/…; undefined elsewhere. */
export function ownerOf(file: string): string | undefined {
  const rel = path.relative(src, file).split(path.sep);
  if (rel[0] === 'modules' && rel.length > 2) return rel[1];
  if (rel[0] === 'platform') return 'platform';
  return undefined;
}

/** Broken rules of one file: each a line naming the file, the import and the rule. */
export function boundaryViolations(f: SourceFile): string[] {
  const from = ownerOf(f.file);
  const out: string[] = [];
  for (const target of importsOf(f)) {
    const to = ownerOf(target);
    const rel = (p: string) => path.relative(root, p);
    const intoModules = target.startsWith(path.join(src, 'modules') + path.sep);
    if (from === 'platform' && (intoModules || target === path.join(src, 'app.ts'))) {
      out.push(`${rel(f.file)} imports ${rel(target)}: the platform never imports a module`);
    }
    if (from && from !== 'platform' && to && to !== 'platform' && to !== from) {
      if (target !== path.join(src, 'modules', to, 'index.ts')) {
        out.push(`${rel(f.file)} imports ${rel(target)}: another module is entered through its index.ts`);
      }
    }
  }
  return out;
}

/** Module → modules it imports. */
function moduleGraph(files: SourceFile[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const f of files) {
    const from = ownerOf(f.file);
    if (!from || from === 'platform') continue;
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const target of importsOf(f)) {
      const to = ownerOf(target);
      if (to && to !== 'platform' && to !== from) edges.add(to);
    }
  }
  return graph;
}

export function findCycle(graph: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

const WRITES = [
  /\binsert\s+into\s+([a-z_][a-z0-9_.]*)/gi,
  /\bupdate\s+([a-z_][a-z0-9_.]*)\s+set\b/gi,
  /\bdelete\s+from\s+([a-z_][a-z0-9_.]*)/gi,
  /\bfrom\s+([a-z_][a-z0-9_.]*)\b[^;`]*?\bfor\s+(?:no\s+key\s+)?update\b/gi,
  /\.(?:insertInto|updateTable|deleteFrom)\(\s*'([a-z_][a-z0-9_.]*)'/g,
];

/** Tables a file writes or locks, among those with an owner. */
export function tablesWritten(text: string): string[] {
  const tables = new Set<string>();
  for (const pattern of WRITES) {
    for (const m of text.matchAll(pattern)) {
      const table = m[1]!.toLowerCase();
      if (table in TABLE_OWNERS) tables.add(table);
    }
  }
  return [...tables];
}

describe('module boundaries', () => {
  it('the platform imports no module, and modules enter each other through index.ts', async () => {
    const violations = (await sources()).flatMap(boundaryViolations);
    assert.deepEqual(violations, []);
  });

  it('modules depend on each other without a cycle', async () => {
    const graph = moduleGraph(await sources());
    assert.ok(graph.size >= 5, `found modules: ${[...graph.keys()]}`);
    assert.equal(findCycle(graph)?.join(' → ') ?? null, null);
  });

  it('each table is written only by its owner', async () => {
    const wrong: string[] = [];
    for (const f of await sources()) {
      const owner = ownerOf(f.file);
      for (const table of tablesWritten(f.text)) {
        if (TABLE_OWNERS[table] !== owner) {
          wrong.push(`${path.relative(root, f.file)} writes ${table}, owned by ${TABLE_OWNERS[table]}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('catches what it is meant to catch', () => {
    // The checks themselves, on made-up files: each rule broken once.
    const at = (rel: string, text: string) => ({ file: path.join(src, rel), text });
    assert.equal(
      boundaryViolations(at('modules/uploads/service.ts', "import { x } from '../transcoding/job-types.ts';"))
        .length,
      1,
    );
    assert.equal(
      boundaryViolations(at('modules/uploads/service.ts', "import { x } from '../videos/index.ts';")).length,
      0,
    );
    assert.equal(
      boundaryViolations(at('platform/http/server.ts', "import { x } from '../../modules/videos/index.ts';"))
        .length,
      1,
    );
    const graph = new Map([
      ['videos', new Set(['transcoding'])],
      ['transcoding', new Set(['videos'])],
    ]);
    assert.deepEqual(findCycle(graph), ['videos', 'transcoding', 'videos']);
    assert.deepEqual(tablesWritten('select status from videos where id = $1 for update'), ['videos']);
    assert.deepEqual(tablesWritten("db.updateTable('videos').set(x)"), ['videos']);
    assert.deepEqual(tablesWritten('select coalesce(sum(source_size), 0) from videos'), []);
  });
});
