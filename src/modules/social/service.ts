// Rules of the social graph: who may follow whom, exact counters, and channel subscriptions (the free
// tier-1 membership, kept by the channels module).
import type { Db, Tx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { emit } from '../../platform/events/emit.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import type { ChannelsService } from '../channels/index.ts';
import { followAggregateId, userFollowed, userUnfollowed } from './events.ts';
import * as repo from './repo.ts';

export interface Page {
  limit: number;
  after?: [string, string];
}

export type Tier = 1 | 2 | null;

export class SocialService {
  constructor(
    private readonly db: Db,
    private readonly channels: ChannelsService,
  ) {}

  /** Idempotent: following someone already followed changes nothing and announces nothing. */
  async follow(principal: Principal, followeeId: string): Promise<void> {
    await this.followable(principal, followeeId);
    await this.db.transaction().execute(async (tx) => {
      if (!(await repo.insertFollow(tx, principal.userId, followeeId))) return;
      await repo.countFollow(tx, principal.userId, followeeId, 1);
      await emit(
        tx,
        userFollowed.create({
          aggregateId: followAggregateId(principal.userId, followeeId),
          payload: { follower_id: principal.userId, followee_id: followeeId },
        }),
      );
    });
  }

  async unfollow(principal: Principal, followeeId: string): Promise<void> {
    await this.followable(principal, followeeId);
    await this.db.transaction().execute(async (tx) => {
      if (!(await repo.deleteFollow(tx, principal.userId, followeeId))) return;
      await repo.countFollow(tx, principal.userId, followeeId, -1);
      await emit(
        tx,
        userUnfollowed.create({
          aggregateId: followAggregateId(principal.userId, followeeId),
          payload: { follower_id: principal.userId, followee_id: followeeId },
        }),
      );
    });
  }

  async isFollowing(principal: Principal, userId: string): Promise<boolean> {
    await this.visibleUser(userId, principal);
    return repo.isFollowing(this.db, principal.userId, userId);
  }

  async followers(userId: string, principal: Principal | null, page: Page) {
    await this.visibleUser(userId, principal);
    return repo.listFollows(this.db, userId, 'followers', { limit: page.limit + 1, after: page.after });
  }

  async following(userId: string, principal: Principal | null, page: Page) {
    await this.visibleUser(userId, principal);
    return repo.listFollows(this.db, userId, 'following', { limit: page.limit + 1, after: page.after });
  }

  async stats(userId: string, principal: Principal | null): Promise<repo.UserStatsRow> {
    await this.visibleUser(userId, principal);
    return repo.statsOf(this.db, userId);
  }

  /**
   * Makes the caller a subscriber (tier 1) of the channel; a premium member stays premium. Answers the
   * tier after and the channel's member count.
   */
  async subscribe(principal: Principal, channelId: string): Promise<{ tier: 1 | 2; members: number }> {
    await this.subscribable(principal, channelId);
    return this.db.transaction().execute(async (tx) => {
      const before = await this.channels.setMembership(tx, channelId, principal.userId, 1, [null]);
      return { tier: before ?? 1, members: await repo.memberCount(tx, channelId) };
    });
  }

  /** Ends a subscription; a premium membership is ended by cancelling it, not here (409). */
  async unsubscribe(principal: Principal, channelId: string): Promise<{ tier: null; members: number }> {
    await this.subscribable(principal, channelId);
    return this.db.transaction().execute(async (tx) => {
      const before = await this.channels.setMembership(tx, channelId, principal.userId, null, [1]);
      if (before === 2) throw new DomainError('PREMIUM_MEMBERSHIP_ACTIVE');
      return { tier: null, members: await repo.memberCount(tx, channelId) };
    });
  }

  subscriptions(principal: Principal, page: Page): Promise<repo.MembershipRow[]> {
    return repo.listMemberships(this.db, principal.userId, { limit: page.limit + 1, after: page.after });
  }

  /**
   * A deleted account follows no one and is followed by no one: its follows go, and the counters of
   * those on the other side drop. Run by the event relay in `tx`; repeating it finds nothing to do.
   * A hidden account keeps its follows (it may come back); lists leave it out meanwhile.
   */
  async accountDeleted(tx: Tx, userId: string): Promise<number> {
    return repo.removeAllFollowsOf(tx, userId);
  }

  /** Someone else, with an active account: hidden ones are not found, as for everyone. */
  private async followable(principal: Principal, userId: string): Promise<void> {
    if (userId === principal.userId) {
      throw new DomainError('CANNOT_FOLLOW_SELF', undefined, {
        fields: [{ field: 'id', message: 'is your own account' }],
      });
    }
    if ((await repo.userStatus(this.db, userId)) !== 'active') throw new DomainError('USER_NOT_FOUND');
  }

  /** An active account, or any account for an administrator. */
  private async visibleUser(userId: string, principal: Principal | null): Promise<void> {
    const status = await repo.userStatus(this.db, userId);
    if (!status || (status !== 'active' && principal?.role !== 'admin'))
      throw new DomainError('USER_NOT_FOUND');
  }

  /** A channel of an active account other than the caller's. */
  private async subscribable(principal: Principal, channelId: string): Promise<void> {
    const channel = await this.channels.visible(channelId, principal);
    if (channel.owner_status !== 'active') throw new DomainError('CHANNEL_NOT_FOUND');
    if (channel.owner_id === principal.userId) {
      throw new DomainError('CANNOT_SUBSCRIBE_OWN_CHANNEL', undefined, {
        fields: [{ field: 'id', message: 'is your own channel' }],
      });
    }
  }
}
