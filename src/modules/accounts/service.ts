// Account rules: registration, sign-in, token rotation with reuse detection, profile changes, roles.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { uuidv7 } from 'uuidv7';
import type { RateLimits } from '../../config.ts';
import type { Db, DbOrTx, Tx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors/domain-error.ts';
import { emit } from '../../platform/events/emit.ts';
import type { Principal } from '../../platform/http/auth-guard.ts';
import type { Backoff, RateLimiter } from '../../platform/http/rate-limit.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import { type NotifyHub, publish } from '../../platform/realtime/notify-hub.ts';
import { BoundedCache } from './bounded-cache.ts';
import { userStatusChanged } from './events.ts';
import { assertPasswordAllowed } from './password-policy.ts';
import { decoyHash, hashPassword, verifyPassword } from './passwords.ts';
import type { UserRow } from './repo.ts';
import * as repo from './repo.ts';
import { type AccessTokens, hashRefreshToken, newRefreshToken } from './tokens.ts';

export interface AccountsDeps {
  db: Db;
  tokens: AccessTokens;
  limiter: RateLimiter;
  logger: Logger;
  refreshTtlSeconds: number;
  limits: RateLimits;
  /** Carries session and account changes to every node, which then drop what they cached. */
  hub?: NotifyHub;
}

/** A change that makes cached sessions stale: one session, or every session of one account. */
interface AccountChange {
  userId?: string;
  sessionId?: string;
}

interface SessionEntry {
  user: UserRow;
  /** Handed to every request of the session while the entry lives, so a request allocates none. */
  principal: Principal;
  revoked: boolean;
  /** Epoch milliseconds. */
  expiresAt: number;
}

const ACCOUNTS_TOPIC = 'accounts';

/** Stands for the account in queries about a sign-in name that matches none, so both cost the same. */
const NO_ACCOUNT = '00000000-0000-0000-0000-000000000000';

/** Fields of GET /users/me that other modules own; accounts answers null until one supplies them. */
export interface SelfExtras {
  channel_id: string | null;
}

export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

/** An account before and after a change, for the audit log. */
export interface UserChange {
  before: UserRow;
  after: UserRow;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: UserRow;
}

export class AccountsService {
  // The row read to authenticate a request also answers /users/me, saving a second query.
  private readonly authenticatedUsers = new WeakMap<Principal, UserRow>();

  // Sessions checked recently, so that an authenticated request needs no database round trip. Every
  // change publishes an AccountChange; each node drops the entries it concerns. The short lifetime
  // bounds staleness should a notification ever be missed.
  private readonly sessions = new BoundedCache<SessionEntry>(20_000, 10_000);

  /** What GET /users/me adds to the account, from modules built later (its channel). */
  private selfExtender: (userId: string) => Promise<SelfExtras> = async () => ({ channel_id: null });

  /** Run in the transaction that creates a user (modules built later make what each account has). */
  private readonly userCreatedHooks: ((tx: Tx, user: UserRow) => Promise<void>)[] = [];

  constructor(private readonly deps: AccountsDeps) {
    deps.hub?.subscribe(ACCOUNTS_TOPIC, (change) => this.forget(change as AccountChange));
    deps.hub?.onReset(() => this.sessions.clear());
  }

  /**
   * `hook` runs in the transaction that creates each user, so that what every account has (its
   * channel) exists exactly when the account does.
   */
  onUserCreated(hook: (tx: Tx, user: UserRow) => Promise<void>): void {
    this.userCreatedHooks.push(hook);
  }

  /** `fn` supplies the fields of the signed-in user's own view that accounts does not own. */
  extendSelf(fn: (userId: string) => Promise<SelfExtras>): void {
    this.selfExtender = fn;
  }

  selfExtras(userId: string): Promise<SelfExtras> {
    return this.selfExtender(userId);
  }

  async register(
    input: { username: string; email: string; password: string; display_name?: string },
    client: ClientInfo,
  ): Promise<Tokens> {
    const { limiter, limits } = this.deps;
    // Before the limit: a refused password costs no registration of the address's budget.
    assertPasswordAllowed(input.password, input);
    await limiter.hit(`register:ip:${client.ip}`, {
      limit: limits.registerPerIp,
      windowSeconds: limits.windowSeconds,
    });
    const user = await this.createUser({ ...input, role: 'user' });
    return this.openSession(user, client);
  }

  /**
   * Creates a user, in the caller's transaction when given one (an administrator's action, recorded
   * with it); USERNAME_TAKEN / EMAIL_TAKEN when either is in use (case-insensitively).
   */
  async createUser(
    input: {
      username: string;
      email: string;
      password: string;
      display_name?: string;
      role: 'user' | 'admin';
    },
    tx?: Tx,
  ): Promise<UserRow> {
    assertPasswordAllowed(input.password, input);
    const password_hash = await hashPassword(input.password);
    const create = async (tx: Tx) => {
      const user = await repo.insertUser(tx, {
        id: uuidv7(),
        username: input.username,
        email: input.email,
        password_hash,
        display_name: input.display_name ?? input.username,
        role: input.role,
        status: 'active',
      });
      for (const hook of this.userCreatedHooks) await hook(tx, user);
      return user;
    };
    try {
      return await (tx ? create(tx) : this.deps.db.transaction().execute(create));
    } catch (err) {
      throw takenError(err) ?? err;
    }
  }

  /**
   * Limits, all in PostgreSQL so that they hold across nodes: attempts per address; failures per
   * account and address (whichever name or email was given); and, once an account has failed often
   * from anywhere, a doubling wait for addresses it holds no session from. Guessing from many addresses
   * is slowed down, while the owner, at an address they are signed in from, is not locked out.
   */
  async login(
    input: { username?: string; email?: string; password: string },
    client: ClientInfo,
  ): Promise<Tokens> {
    const { db, limiter, limits } = this.deps;
    const window = limits.windowSeconds;
    await limiter.hit(`login:ip:${client.ip}`, { limit: limits.loginPerIp, windowSeconds: window });
    const user = await repo.findUserByLogin(db, input);
    // A name that matches no account is limited like one that does, by a key of its own.
    const account = user?.id ?? `unknown:${sha256((input.email ?? input.username ?? '').toLowerCase())}`;
    const failuresHere = `login:failures:${account}:${client.ip}`;
    const backoffKey = `login:backoff:${account}`;
    await limiter.check(failuresHere, { limit: limits.loginPerAccount, windowSeconds: window });
    if (!(await repo.hasLiveSessionFrom(db, user?.id ?? NO_ACCOUNT, client.ip))) {
      await limiter.checkBackoff(backoffKey, this.loginBackoff());
    }
    const ok = await verifyPassword(user?.password_hash ?? (await decoyHash), input.password);
    if (!user || !ok) {
      await limiter.count(failuresHere, window);
      await limiter.recordFailure(backoffKey, this.loginBackoff());
      throw new DomainError('INVALID_CREDENTIALS');
    }
    if (user.status !== 'active') throw new DomainError('ACCOUNT_HIDDEN');
    await limiter.reset(failuresHere);
    return this.openSession(user, client);
  }

  /** Rotates a refresh token. A token presented twice means it leaked: its whole session is ended. */
  async refresh(token: string): Promise<Tokens> {
    const hash = hashRefreshToken(token);
    type Outcome =
      | {
          error:
            | 'TOKEN_INVALID'
            | 'REFRESH_TOKEN_REUSED'
            | 'SESSION_REVOKED'
            | 'TOKEN_EXPIRED'
            | 'ACCOUNT_HIDDEN';
          sessionId?: string;
        }
      | { error?: undefined; refreshToken: string; sessionId: string; userId: string };
    const outcome = await this.deps.db.transaction().execute(async (tx): Promise<Outcome> => {
      const found = await repo.lockRefreshToken(tx, hash);
      if (!found) return { error: 'TOKEN_INVALID' };
      if (found.used_at) {
        await repo.revokeSession(tx, found.session_id, 'refresh_token_reuse');
        await this.changed(tx, { sessionId: found.session_id });
        return { error: 'REFRESH_TOKEN_REUSED', sessionId: found.session_id };
      }
      // Hiding an account also ends its sessions: say why, as authenticate does, not "sign in again".
      if (found.status !== 'active') return { error: 'ACCOUNT_HIDDEN' };
      if (found.revoked_at) return { error: 'SESSION_REVOKED' };
      if (found.expires_at <= new Date()) return { error: 'TOKEN_EXPIRED' };
      await repo.markRefreshTokenUsed(tx, found.id);
      const next = newRefreshToken();
      await repo.insertRefreshToken(tx, {
        id: uuidv7(),
        session_id: found.session_id,
        token_hash: next.hash,
      });
      await repo.extendSession(tx, found.session_id, this.sessionExpiry());
      return { refreshToken: next.token, sessionId: found.session_id, userId: found.user_id };
    });
    if (outcome.error) {
      if (outcome.error === 'REFRESH_TOKEN_REUSED') {
        this.forget({ sessionId: outcome.sessionId });
        this.deps.logger.warn({ sessionId: outcome.sessionId }, 'refresh token reused; session revoked');
      }
      throw new DomainError(outcome.error);
    }
    // The session now lives longer: drop the cached expiry.
    this.forget({ sessionId: outcome.sessionId });
    const user = (await repo.findUserById(this.deps.db, outcome.userId))!;
    return {
      access_token: await this.deps.tokens.sign({ userId: user.id, sessionId: outcome.sessionId }),
      refresh_token: outcome.refreshToken,
      expires_in: this.deps.tokens.ttlSeconds,
      user,
    };
  }

  async logout(principal: Principal): Promise<void> {
    await repo.revokeSession(this.deps.db, principal.sessionId, 'logout');
    await this.changed(this.deps.db, { sessionId: principal.sessionId });
  }

  /**
   * Verifies an access token and that its session and account are still good. When both caches know
   * the token (nearly every request) it answers at once, without a promise, and may then throw an
   * DomainError instead of rejecting: a promise chain cost more than the whole check.
   */
  readonly authenticate = (token: string): Principal | Promise<Principal> => {
    const claims = this.deps.tokens.known(token);
    const entry = claims && this.sessions.get(claims.sessionId);
    if (entry && entry.user.id === claims.userId) return admit(entry);
    return this.authenticateAfresh(token);
  };

  private async authenticateAfresh(token: string): Promise<Principal> {
    const claims = await this.deps.tokens.verify(token);
    let entry = this.sessions.get(claims.sessionId);
    if (!entry || entry.user.id !== claims.userId) {
      const row = await repo.findSessionWithUser(this.deps.db, claims.sessionId, claims.userId);
      if (!row) throw new DomainError('TOKEN_INVALID');
      const { revoked_at, expires_at, ...user } = row;
      const principal: Principal = { userId: user.id, sessionId: claims.sessionId, role: user.role };
      this.authenticatedUsers.set(principal, user);
      entry = { user, principal, revoked: revoked_at !== null, expiresAt: expires_at.getTime() };
      this.sessions.set(claims.sessionId, entry);
    }
    return admit(entry);
  }

  async me(principal: Principal): Promise<UserRow> {
    const cached = this.authenticatedUsers.get(principal);
    if (cached) return cached;
    const user = await repo.findUserById(this.deps.db, principal.userId);
    if (!user) throw new DomainError('USER_NOT_FOUND');
    return user;
  }

  async setDisplayName(principal: Principal, displayName: string): Promise<UserRow> {
    const user = await repo.updateUser(this.deps.db, principal.userId, { display_name: displayName });
    if (!user) throw new DomainError('USER_NOT_FOUND');
    await this.changed(this.deps.db, { userId: user.id });
    return user;
  }

  /** Needs the current password; ends every other session of the account. */
  async changePassword(principal: Principal, current: string, next: string): Promise<void> {
    const user = await this.me(principal);
    assertPasswordAllowed(next, user, 'new_password');
    await this.checkPassword(user, current, 'current_password');
    const password_hash = await hashPassword(next);
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.updateUser(tx, user.id, { password_hash });
      await repo.revokeUserSessions(tx, user.id, 'password_changed', principal.sessionId);
      await this.changed(tx, { userId: user.id });
    });
    this.forget({ userId: user.id });
  }

  async listUsers(opts: repo.UserFilter & { limit: number; beforeId?: string }): Promise<UserRow[]> {
    return repo.listUsers(this.deps.db, opts);
  }

  /**
   * The ids of the active accounts named (usernames, any case), in the order of `names`; names of no
   * account, or of a hidden or deleted one, are left out. Comments resolve @mentions with it.
   */
  async activeIdsByUsername(names: string[]): Promise<string[]> {
    const found = new Map(
      (await repo.activeIdsByUsername(this.deps.db, names)).map((r) => [r.name, r.id] as const),
    );
    const ids = names.map((n) => found.get(n.toLowerCase())).filter((id): id is string => !!id);
    return [...new Set(ids)];
  }

  async getUser(id: string): Promise<UserRow> {
    const user = await repo.findUserById(this.deps.db, id);
    if (!user) throw new DomainError('USER_NOT_FOUND');
    return user;
  }

  /**
   * Moves an account to `status` in the caller's transaction (an administrator's action, recorded with
   * it). Hiding or deleting ends its sessions; a deleted account stays deleted (ACCOUNT_DELETED). What
   * the account owns elsewhere (channel, videos) follows from `user.status_changed`, after the commit.
   * Nothing changes, and nothing is announced, when the account already has that status. Cached
   * sessions are dropped now and, on every node this one included, again when the commit's
   * notification arrives, so a sign-in racing with the transaction cannot keep the old status.
   */
  async setStatus(tx: Tx, userId: string, status: UserRow['status']): Promise<UserChange> {
    const before = await repo.lockUser(tx, userId);
    if (!before) throw new DomainError('USER_NOT_FOUND');
    if (before.status === status) return { before, after: before };
    if (before.status === 'deleted') throw new DomainError('ACCOUNT_DELETED');
    const after = (await repo.updateUser(tx, userId, { status }))!;
    if (status !== 'active') await repo.revokeUserSessions(tx, userId, `account_${status}`);
    await emit(tx, userStatusChanged.create({ aggregateId: userId, payload: { user_id: userId, status } }));
    await this.changed(tx, { userId });
    return { before, after };
  }

  /**
   * Changes an account's display name, email or role in the caller's transaction. EMAIL_TAKEN when
   * another account has the email (case-insensitively); ACCOUNT_DELETED for a deleted account.
   */
  async updateProfile(
    tx: Tx,
    userId: string,
    patch: { display_name?: string; email?: string; role?: UserRow['role'] },
  ): Promise<UserChange> {
    const before = await repo.lockUser(tx, userId);
    if (!before) throw new DomainError('USER_NOT_FOUND');
    if (before.status === 'deleted') throw new DomainError('ACCOUNT_DELETED');
    try {
      const after = (await repo.updateUser(tx, userId, patch))!;
      // A role is part of every cached session of the account.
      await this.changed(tx, { userId });
      return { before, after };
    } catch (err) {
      throw takenError(err) ?? err;
    }
  }

  /** The owner hides their account: their sessions end, their content disappears; an admin may restore it. */
  async hideOwnAccount(principal: Principal): Promise<void> {
    // As on the admin routes: an instance must not lose its administrators by their own hand.
    if (principal.role === 'admin') {
      throw new DomainError('PERMISSION_DENIED', 'Administrators cannot hide themselves');
    }
    await this.deps.db.transaction().execute((tx) => this.setStatus(tx, principal.userId, 'hidden'));
    this.forget({ userId: principal.userId });
  }

  /**
   * The owner deletes their account for good, proving it with their password (a stolen access token is
   * not enough, and is no way to guess the password either).
   */
  async deleteOwnAccount(principal: Principal, password: string): Promise<void> {
    if (principal.role === 'admin') throw new DomainError('CANNOT_DELETE_SELF');
    const user = await this.me(principal);
    await this.checkPassword(user, password, 'password');
    await this.deps.db.transaction().execute((tx) => this.setStatus(tx, user.id, 'deleted'));
    this.forget({ userId: user.id });
  }

  /** First-start admin from ADMIN_EMAIL/ADMIN_PASSWORD: made only while no admin exists. */
  async ensureInitialAdmin(admin: { email: string; password: string; username: string }): Promise<void> {
    if (await repo.anyAdminExists(this.deps.db)) return;
    try {
      await this.createUser({ ...admin, role: 'admin' });
      this.deps.logger.info({ username: admin.username }, 'initial administrator created');
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      // ADMIN_PASSWORD refused: said plainly, for the operator to choose another.
      if (err.code === 'VALIDATION_FAILED') {
        this.deps.logger.error(
          { code: err.code },
          `initial administrator not created: ADMIN_PASSWORD ${err.extra.fields?.[0]?.message ?? 'is not allowed'}`,
        );
        return;
      }
      // Another node made it at the same moment, or the name is taken by a normal account.
      this.deps.logger.warn({ code: err.code }, 'initial administrator not created');
    }
  }

  /** INVALID_CREDENTIALS on `field` unless `password` is the account's; a stolen access token must not
   * become a way to guess the password, so failures are limited as sign-ins are. */
  private async checkPassword(user: UserRow, password: string, field: string): Promise<void> {
    const { limiter, limits } = this.deps;
    const failures = `password-check:failures:${user.id}`;
    await limiter.check(failures, { limit: limits.loginPerAccount, windowSeconds: limits.windowSeconds });
    if (!(await verifyPassword(user.password_hash, password))) {
      await limiter.count(failures, limits.windowSeconds);
      throw new DomainError('INVALID_CREDENTIALS', 'The password is wrong', {
        fields: [{ field, message: 'wrong password' }],
      });
    }
  }

  /**
   * Announces a change in the caller's transaction (other nodes hear it after the commit) and drops
   * local entries at once. Callers inside a transaction forget again after it commits, so that a read
   * racing with the transaction cannot leave the old state cached here.
   */
  private async changed(db: DbOrTx, change: AccountChange): Promise<void> {
    this.forget(change);
    await publish(db, ACCOUNTS_TOPIC, change);
  }

  private forget(change: AccountChange): void {
    if (change.sessionId) this.sessions.delete(change.sessionId);
    if (change.userId) this.sessions.deleteWhere((e) => e.user.id === change.userId);
  }

  private async openSession(user: UserRow, client: ClientInfo): Promise<Tokens> {
    const sessionId = uuidv7();
    const refresh = newRefreshToken();
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.insertSession(tx, {
        id: sessionId,
        user_id: user.id,
        expires_at: this.sessionExpiry(),
        user_agent: client.userAgent?.slice(0, 512) ?? null,
        ip: client.ip,
      });
      await repo.insertRefreshToken(tx, { id: uuidv7(), session_id: sessionId, token_hash: refresh.hash });
    });
    return {
      access_token: await this.deps.tokens.sign({ userId: user.id, sessionId }),
      refresh_token: refresh.token,
      expires_in: this.deps.tokens.ttlSeconds,
      user,
    };
  }

  private loginBackoff(): Backoff {
    const { loginBackoffAfter, loginBackoffMaxSeconds } = this.deps.limits;
    return {
      after: loginBackoffAfter,
      baseSeconds: 1,
      maxSeconds: loginBackoffMaxSeconds,
      resetSeconds: 86_400,
    };
  }

  private sessionExpiry(): Date {
    return new Date(Date.now() + this.deps.refreshTtlSeconds * 1000);
  }
}

function admit(entry: SessionEntry): Principal {
  if (entry.user.status !== 'active') throw new DomainError('ACCOUNT_HIDDEN');
  if (entry.revoked) throw new DomainError('SESSION_REVOKED');
  // An access token never outlives its session, whatever the two lifetimes are set to.
  if (entry.expiresAt <= Date.now()) throw new DomainError('TOKEN_EXPIRED');
  return entry.principal;
}

/** USERNAME_TAKEN / EMAIL_TAKEN for a uniqueness violation of either. */
function takenError(err: unknown): DomainError | undefined {
  if (!(err instanceof pg.DatabaseError) || err.code !== '23505') return undefined;
  if (err.constraint === 'users_username_key') return new DomainError('USERNAME_TAKEN');
  if (err.constraint === 'users_email_key') return new DomainError('EMAIL_TAKEN');
  return undefined;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}
