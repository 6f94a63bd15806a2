import type { UserRow } from './repo.ts';
import type { Tokens } from './service.ts';

export function toUserDto(u: UserRow) {
  return {
    id: u.id,
    username: u.username,
    display_name: u.display_name,
    role: u.role,
    created_at: u.created_at.toISOString(),
  };
}

export function toSelfDto(u: UserRow) {
  return { ...toUserDto(u), email: u.email, status: u.status };
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
