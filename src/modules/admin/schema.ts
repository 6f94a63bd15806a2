import { z } from 'zod';
import { pageQuery } from '../../platform/http/pagination.ts';
import { accountStatus, displayName, email, password, role, username } from '../accounts/index.ts';

export const idParams = z.object({ id: z.uuid() });

const reason = z.string().trim().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters');

/** A reason the action may carry; the body itself may be left out. */
export const optionalReasonBody = z.object({ reason: reason.optional() }).nullish();
export const requiredReasonBody = z.object({ reason });

export const userListQuery = pageQuery
  .extend({
    status: accountStatus.optional(),
    hidden: z
      .enum(['true', 'false'])
      .optional()
      .describe('true: hidden accounts (as status=hidden); false: active ones (as status=active)'),
    role: role.optional(),
    q: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .describe('A piece of the username, display name or email'),
  })
  .refine((p) => !(p.status && p.hidden), { message: 'give status or hidden, not both', path: ['hidden'] });

export const createUserBody = z.object({
  username,
  email,
  password,
  display_name: displayName.optional(),
  role: role.default('user'),
});

export const updateUserBody = z
  .object({ display_name: displayName.optional(), email: email.optional(), role: role.optional() })
  .refine((p) => Object.values(p).some((v) => v !== undefined), {
    message: 'give display_name, email or role',
    path: ['display_name'],
  });

/** The older form of the account actions: one status change and/or a role. */
export const userPatch = z
  .object({ status: accountStatus.optional(), role: role.optional() })
  .refine((p) => p.status !== undefined || p.role !== undefined, {
    message: 'give status or role',
    path: ['status'],
  });

export const moderatedVideoDto = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    title: z.string(),
    status: z.string(),
    visibility: z.enum(['public', 'unlisted', 'private']),
    access_tier: z.number().int(),
    publication: z.enum(['draft', 'scheduled', 'published', 'unpublished', 'rejected']),
    hidden: z.boolean(),
    moderation_reason: z.string().nullable(),
  })
  .meta({ id: 'ModeratedVideo' });

export const auditQuery = pageQuery.extend({
  actor_id: z.uuid().optional(),
  target_type: z.string().min(1).max(50).optional(),
  target_id: z.string().min(1).max(200).optional(),
});

export const auditEntryDto = z
  .object({
    id: z.uuid(),
    actor_id: z.uuid().nullable(),
    action: z.string(),
    target_type: z.string(),
    target_id: z.string(),
    reason: z.string().nullable(),
    before: z.unknown().nullable(),
    after: z.unknown().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'AuditEntry' });
