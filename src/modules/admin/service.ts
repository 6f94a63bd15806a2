// Administrators' actions. Each runs in one transaction with its audit entry, so an action and its
// record exist together or not at all. The changes themselves are the owners' (accounts, videos); the
// rules here are about who acts: an administrator never hides, demotes or deletes themself.
import type { Db, Tx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import { type AccountsService, toSelfDto, type UserChange, type UserRow } from '../accounts/index.ts';
import type { AuditService } from '../audit/index.ts';
import type { VideoRow, VideosService } from '../videos/index.ts';

export type VideoDecision = 'hide' | 'restore' | 'reject' | 'reinstate';

const DECISIONS = {
  hide: { hidden: true },
  restore: { hidden: false },
  reject: { reject: true },
  reinstate: { reinstate: true },
} as const;

export interface AdminDeps {
  db: Db;
  accounts: AccountsService;
  videos: VideosService;
  audit: AuditService;
}

interface ModeratedVideo {
  before: VideoRow;
  after: VideoRow;
}

export class AdminService {
  constructor(private readonly deps: AdminDeps) {}

  async createUser(
    admin: Principal,
    input: {
      username: string;
      email: string;
      password: string;
      display_name?: string;
      role: UserRow['role'];
    },
  ): Promise<UserRow> {
    return this.act(async (tx) => {
      const user = await this.deps.accounts.createUser(input, tx);
      await this.record(tx, admin, 'user.create', null, { before: null, after: user });
      return user;
    });
  }

  async updateUser(
    admin: Principal,
    userId: string,
    patch: { display_name?: string; email?: string; role?: UserRow['role'] },
  ): Promise<UserRow> {
    if (userId === admin.userId && patch.role === 'user') refuseSelf('demote');
    return this.act(async (tx) => {
      const change = await this.deps.accounts.updateProfile(tx, userId, patch);
      await this.record(tx, admin, 'user.update', null, change);
      return change.after;
    });
  }

  async hideUser(admin: Principal, userId: string, reason: string | null): Promise<UserRow> {
    if (userId === admin.userId) refuseSelf('hide');
    return this.setStatus(admin, userId, 'hidden', 'user.hide', reason);
  }

  async restoreUser(admin: Principal, userId: string, reason: string | null): Promise<UserRow> {
    return this.setStatus(admin, userId, 'active', 'user.restore', reason);
  }

  /** For good: the account stays deleted, and its videos and their media are removed (by the videos module). */
  async deleteUser(admin: Principal, userId: string, reason: string | null): Promise<UserRow> {
    if (userId === admin.userId) throw new DomainError('CANNOT_DELETE_SELF');
    return this.setStatus(admin, userId, 'deleted', 'user.delete', reason);
  }

  async moderateVideo(
    admin: Principal,
    videoId: string,
    decision: VideoDecision,
    reason: string | null,
  ): Promise<VideoRow> {
    return this.act(async (tx) => {
      const before = await this.deps.videos.lock(tx, videoId);
      if (!before) throw new DomainError('VIDEO_NOT_FOUND');
      const after = await this.deps.videos.publishing.moderate(tx, videoId, {
        ...DECISIONS[decision],
        reason,
      });
      await this.recordVideo(tx, admin, `video.${decision}`, reason, { before, after });
      return after;
    });
  }

  private async setStatus(
    admin: Principal,
    userId: string,
    status: UserRow['status'],
    action: string,
    reason: string | null,
  ): Promise<UserRow> {
    return this.act(async (tx) => {
      const change = await this.deps.accounts.setStatus(tx, userId, status);
      await this.record(tx, admin, action, reason, change);
      return change.after;
    });
  }

  private act<T>(action: (tx: Tx) => Promise<T>): Promise<T> {
    return this.deps.db.transaction().execute(action);
  }

  /** The public view of the account before and after: never its password hash. */
  private async record(
    tx: Tx,
    admin: Principal,
    action: string,
    reason: string | null,
    change: UserChange | { before: null; after: UserRow },
  ): Promise<void> {
    await this.deps.audit.record(tx, {
      actorId: admin.userId,
      action,
      targetType: 'user',
      targetId: change.after.id,
      reason,
      before: change.before && toSelfDto(change.before),
      after: toSelfDto(change.after),
    });
  }

  private async recordVideo(
    tx: Tx,
    admin: Principal,
    action: string,
    reason: string | null,
    change: ModeratedVideo,
  ): Promise<void> {
    await this.deps.audit.record(tx, {
      actorId: admin.userId,
      action,
      targetType: 'video',
      targetId: change.after.id,
      reason,
      before: moderationFacts(change.before),
      after: moderationFacts(change.after),
    });
  }
}

/** What a moderation decision changes, and the title to tell which video it was. */
export function moderationFacts(v: VideoRow) {
  return {
    id: v.id,
    owner_id: v.owner_id,
    title: v.title,
    status: v.status,
    visibility: v.visibility,
    access_tier: v.access_tier,
    publication: v.publication,
    hidden: v.hidden,
    moderation_reason: v.moderation_reason,
  };
}

function refuseSelf(what: 'hide' | 'demote'): never {
  throw new DomainError('PERMISSION_DENIED', `Administrators cannot ${what} themselves`);
}
