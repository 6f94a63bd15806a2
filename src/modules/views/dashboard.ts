// The creator dashboard: a creator's own videos with their views, and views per day over a range. Reads
// the videos, channels and memberships tables (never writes them) beside the view tables.
import { z } from 'zod';
import type { Db } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { cursorTime, decodeCursor, encodeCursor } from '../../platform/http/pagination.ts';
import * as repo from './repo.ts';

const DAY_MS = 86_400_000;
/** Days of analytics one request may ask for. */
export const MAX_RANGE_DAYS = 366;
const DEFAULT_RANGE_DAYS = 30;
const RANKING_SIZE = 10;

export class DashboardService {
  constructor(private readonly db: Db) {}

  async videos(ownerId: string, opts: { limit: number; cursor?: string }) {
    const after = opts.cursor ? decodeCursor(opts.cursor, z.tuple([cursorTime, z.uuid()])) : undefined;
    const rows = await repo.ownerVideos(this.db, ownerId, { limit: opts.limit + 1, after });
    const items = rows.slice(0, opts.limit);
    const last = items.at(-1);
    return {
      items,
      next_cursor: rows.length > opts.limit && last ? encodeCursor([last.created_key, last.id]) : null,
    };
  }

  /** `from`/`to`: UTC days, both included; by default the last 30 days up to today. */
  async analytics(ownerId: string, range: { from?: string; to?: string }) {
    const { from, to } = resolveRange(range, new Date());
    const [days, ranking, allTime, members] = await Promise.all([
      repo.ownerDays(this.db, ownerId, from, to),
      repo.ownerRanking(this.db, ownerId, from, to, RANKING_SIZE),
      repo.ownerTotals(this.db, ownerId),
      repo.ownerMembers(this.db, ownerId),
    ]);
    const member = days.reduce((sum, d) => sum + d.member, 0);
    const nonMember = days.reduce((sum, d) => sum + d.non_member, 0);
    return {
      from,
      to,
      days,
      totals: { member, non_member: nonMember, total: member + nonMember },
      all_time: allTime,
      ranking,
      member_count: members.subscribers + members.premium,
      members,
    };
  }
}

export function resolveRange(range: { from?: string; to?: string }, now: Date): { from: string; to: string } {
  const to = range.to ?? now.toISOString().slice(0, 10);
  const from = range.from ?? dayOffset(to, -(DEFAULT_RANGE_DAYS - 1));
  if (from > to) {
    throw new DomainError('VALIDATION_FAILED', '`from` is after `to`', {
      fields: [{ field: 'from', message: 'must be on or before `to`' }],
    });
  }
  if ((Date.parse(to) - Date.parse(from)) / DAY_MS + 1 > MAX_RANGE_DAYS) {
    throw new DomainError('VALIDATION_FAILED', `At most ${MAX_RANGE_DAYS} days at once`, {
      fields: [{ field: 'from', message: `at most ${MAX_RANGE_DAYS} days before \`to\`` }],
    });
  }
  return { from, to };
}

function dayOffset(day: string, days: number): string {
  return new Date(Date.parse(day) + days * DAY_MS).toISOString().slice(0, 10);
}
