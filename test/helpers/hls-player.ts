// A headless HLS client that follows RFC 8216 §6.3 the way hls.js and Safari do: it loads the master,
// picks a variant (and the audio rendition), then reloads each media playlist until it has ENDLIST,
// fetching every segment once, in order. What it records lets a test say the video played to its end.
export interface PlayedTrack {
  uri: string;
  /** Playlist types seen on each load, in order (EVENT while growing, VOD at the end). */
  types: string[];
  loads: number;
  segments: number;
  bytes: number;
  durationS: number;
}

export interface PlayOptions {
  /** Variant to pick: the index in the master's order. */
  variant?: number;
  timeoutMs?: number;
  fetchInit?: RequestInit;
}

export async function playToEnd(masterUrl: string, opts: PlayOptions = {}): Promise<PlayedTrack[]> {
  const master = await text(masterUrl, opts.fetchInit);
  const variants = [...master.matchAll(/#EXT-X-STREAM-INF:.*\n(.+)/g)].map((m) => m[1]!.trim());
  if (!variants.length) throw new Error(`no variant in ${masterUrl}:\n${master}`);
  const audio = /#EXT-X-MEDIA:TYPE=AUDIO.*URI="([^"]+)"/.exec(master)?.[1];
  const uris = [variants[opts.variant ?? 0]!, ...(audio ? [audio] : [])];
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  return Promise.all(uris.map((uri) => followTrack(new URL(uri, masterUrl).href, deadline, opts.fetchInit)));
}

async function followTrack(url: string, deadline: number, init?: RequestInit): Promise<PlayedTrack> {
  const played: PlayedTrack = { uri: url, types: [], loads: 0, segments: 0, bytes: 0, durationS: 0 };
  let fetchedMap = false;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`${url} did not end in time: ${JSON.stringify(played)}`);
    const list = await text(url, init);
    played.loads++;
    played.types.push(/#EXT-X-PLAYLIST-TYPE:(\w+)/.exec(list)?.[1] ?? 'NONE');
    const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(list)?.[1];
    if (map && !fetchedMap) {
      played.bytes += await bytes(new URL(map, url).href, init);
      fetchedMap = true;
    }
    const entries = [...list.matchAll(/#EXTINF:([\d.]+),.*\n(.+)/g)].map((m) => ({
      durationS: Number(m[1]),
      uri: m[2]!.trim(),
    }));
    // Media sequence starts at 0 and nothing is ever removed: index = sequence number.
    for (const entry of entries.slice(played.segments)) {
      played.bytes += await bytes(new URL(entry.uri, url).href, init);
      played.durationS += entry.durationS;
      played.segments++;
    }
    if (list.includes('#EXT-X-ENDLIST')) return played;
    // §6.3.4: reload after the target duration, or half of it when the list did not change.
    const target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(list)?.[1] ?? 1);
    await new Promise((r) => setTimeout(r, (target * 1000) / 2));
  }
}

async function text(url: string, init?: RequestInit): Promise<string> {
  const res = await fetch(url, init);
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  return res.text();
}

async function bytes(url: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url, init);
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return (await res.arrayBuffer()).byteLength;
}
