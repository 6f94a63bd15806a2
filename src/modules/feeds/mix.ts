// The seed's recommendation mix (§2.4), pure: about 40 % from followed accounts, 30 % similar to what the
// viewer liked and watched, the rest popular; a source that runs short leaves its share to the next.
export const REASONS = ['following', 'similar', 'popular'] as const;
export type Reason = (typeof REASONS)[number];

export const SHARES: Record<Exclude<Reason, 'popular'>, number> = { following: 0.4, similar: 0.3 };

/**
 * Picks `limit` items from the candidates of each reason (each list best first): every id once, the first
 * reason that offers it wins, shares as above with shortfalls passed on, then anything left over when
 * the popular list too runs short. Answers them interleaved (following, similar, popular, following, …)
 * so that every screenful holds each kind.
 */
export function mixRecommendations<T extends { id: string }>(
  limit: number,
  candidates: Record<Reason, T[]>,
): Array<T & { reason: Reason }> {
  const seen = new Set<string>();
  const picked: Record<Reason, T[]> = { following: [], similar: [], popular: [] };
  const next: Record<Reason, number> = { following: 0, similar: 0, popular: 0 };
  const total = () => picked.following.length + picked.similar.length + picked.popular.length;
  const take = (reason: Reason, upTo: number) => {
    const list = candidates[reason];
    while (picked[reason].length < upTo && total() < limit && next[reason] < list.length) {
      const item = list[next[reason]++]!;
      if (seen.has(item.id)) continue;
      seen.add(item.id);
      picked[reason].push(item);
    }
  };
  take('following', Math.round(limit * SHARES.following));
  take('similar', Math.round(limit * (SHARES.following + SHARES.similar)) - picked.following.length);
  take('popular', limit);
  take('following', limit);
  take('similar', limit);

  const out: Array<T & { reason: Reason }> = [];
  for (let i = 0; out.length < total(); i++) {
    for (const reason of REASONS) {
      const item = picked[reason][i];
      if (item) out.push({ ...item, reason });
    }
  }
  return out;
}
