import { z } from 'zod';

export const username = z
  .string()
  .regex(/^[A-Za-z0-9_]{3,32}$/, 'must be 3-32 letters, digits or underscores');
export const email = z.email('must be an email address').max(254);
export const password = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(256, 'must be at most 256 characters');
export const displayName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters');

export const role = z.enum(['user', 'admin']);
export const accountStatus = z.enum(['active', 'hidden', 'deleted']);

export const registerBody = z.object({
  username,
  email,
  password,
  display_name: displayName.optional(),
});

export const loginBody = z
  .object({
    username: z.string().min(1).max(254).optional(),
    email: z.string().min(1).max(254).optional(),
    password: z.string().min(1).max(256),
  })
  .refine((b) => (b.username === undefined) !== (b.email === undefined), {
    message: 'give exactly one of username or email',
    path: ['username'],
  });

export const refreshBody = z.object({ refresh_token: z.string().min(1).max(200) });
export const displayNameBody = z.object({ display_name: displayName });
export const passwordBody = z.object({
  current_password: z.string().min(1).max(256),
  new_password: password,
});

export const deleteAccountBody = z.object({
  password: z.string().min(1).max(256).describe('The current password: deleting is for good'),
});

export const userDto = z
  .object({
    id: z.uuid(),
    username: z.string(),
    display_name: z.string(),
    role,
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'User' });

export const selfDto = userDto.extend({ email: z.string(), status: accountStatus }).meta({ id: 'SelfUser' });

export const meDto = selfDto
  .extend({ channel_id: z.uuid().nullable().describe("The account's channel; null after it was deleted") })
  .meta({ id: 'Me' });

export const tokensDto = z
  .object({
    token_type: z.literal('Bearer'),
    access_token: z.string(),
    expires_in: z.number().int().describe('Seconds until the access token expires'),
    refresh_token: z.string().describe('Opaque; rotated on every use'),
    user: selfDto,
  })
  .meta({ id: 'Tokens' });
