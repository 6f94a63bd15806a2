import { signSummary, toSummary } from '../discovery/index.ts';
import type { PlaybackSigner } from '../videos/index.ts';
import type { CollectionRow, ItemRow } from './repo.ts';

/** A collection as `viewerId` sees it: its owner counts every item, others what they are shown. */
export function toCollectionDto(c: CollectionRow, viewerId: string | null) {
  return {
    id: c.id,
    owner_id: c.owner_id,
    kind: c.kind,
    name: c.name,
    description: c.description,
    visibility: c.visibility,
    items_count: viewerId === c.owner_id ? c.items_total : c.items_listed,
    created_at: c.created_at.toISOString(),
    updated_at: c.updated_at.toISOString(),
  };
}

export function toItemDto(row: ItemRow, signer: PlaybackSigner) {
  return { ...signSummary(toSummary(row), signer), added_at: row.added_at.toISOString() };
}
