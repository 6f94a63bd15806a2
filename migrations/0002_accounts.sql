-- Accounts: users, sessions (one per login, the refresh-token family) and refresh tokens.
-- Written only by src/modules/accounts.

create table users (
  id uuid primary key,
  username text not null,
  email text not null,
  password_hash text not null,
  display_name text not null,
  role text not null default 'user' check (role in ('user', 'admin')),
  status text not null default 'active' check (status in ('active', 'hidden', 'deleted')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- Serve login by username or email and the uniqueness checks; case-insensitive.
create unique index users_username_key on users (lower(username));
create unique index users_email_key on users (lower(email));

create table sessions (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  last_used_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  revoked_reason text,
  user_agent text,
  ip text
);
-- Serves "revoke every other session of this user" on a password change.
create index sessions_user_id_idx on sessions (user_id) where revoked_at is null;

create table refresh_tokens (
  id uuid primary key,
  session_id uuid not null references sessions (id) on delete cascade,
  -- sha256 of the opaque token: a database leak does not leak usable tokens.
  token_hash bytea not null unique,
  created_at timestamptz not null default now(),
  used_at timestamptz
);
