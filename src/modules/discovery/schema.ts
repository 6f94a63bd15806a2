import { z } from 'zod';
import { CATEGORIES } from '../videos/index.ts';
import { SLUG_PATTERN } from './slug.ts';
import type { TagRow } from './tags-repo.ts';

export const tagDto = z
  .object({ id: z.uuid(), name: z.string(), slug: z.string(), created_at: z.iso.datetime() })
  .meta({ id: 'Tag' });

export const tagList = z.object({ items: z.array(tagDto) });

export function toTagDto(t: TagRow) {
  return { id: t.id, name: t.name, slug: t.slug, created_at: t.created_at.toISOString() };
}

export const tagInput = z.object({
  name: z.string().trim().min(1).max(50),
  slug: z
    .string()
    .min(1)
    .max(50)
    .regex(SLUG_PATTERN, 'lower case letters and digits, words joined by "-"')
    .optional()
    .describe('Made from the name when absent; video tags are slugs'),
});

export const tagIdParams = z.object({ id: z.uuid() });

/** A guest's preferences live under an id the client makes up and keeps. */
export const sessionId = z
  .string()
  .min(16)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-"')
  .describe('A random opaque id the client keeps (guests only; ignored when signed in)');

export const myTagsQuery = z.object({ session_id: sessionId.optional() });
export const myTagsBody = z.object({
  tag_ids: z.array(z.uuid()).max(100).describe('At most 5'),
  session_id: sessionId.optional(),
});

export const recommendedQuery = z.object({
  limit: z.coerce.number().int().min(1).max(50).default(20),
  session_id: sessionId.optional(),
});

const dateOrTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

export const searchQuery = z.object({
  q: z.string().trim().min(1).max(200).optional(),
  category: z.enum(CATEGORIES).optional(),
  min_duration: z.coerce.number().min(0).optional().describe('Seconds'),
  max_duration: z.coerce.number().min(0).optional().describe('Seconds'),
  uploaded_from: dateOrTime.optional().describe('A date (from its start) or a time'),
  uploaded_to: dateOrTime.optional().describe('A date (to its end) or a time'),
  access_tier: z.coerce.number().int().min(0).max(2).optional(),
  sort: z
    .enum(['relevance', 'newest', 'views'])
    .optional()
    .describe('relevance (the default with q; needs q), newest (the default without), views'),
  limit: z.coerce.number().int().min(1).max(50).default(20),
  cursor: z.string().max(500).optional(),
});
