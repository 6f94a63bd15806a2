// Reads Server-Sent Events streams: to their end (readEvents), or while the test acts (openEvents).
export interface SseEvent {
  event: string;
  data: any;
}

/** Parses SSE blocks from chunks of a response body, handing each named event with data to `onEvent`. */
async function parse(body: ReadableStream<Uint8Array>, onEvent: (e: SseEvent) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let cut = buffer.indexOf('\n\n');
    while (cut >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) onEvent({ event, data: JSON.parse(data) });
      cut = buffer.indexOf('\n\n');
    }
  }
}

export async function readEvents(
  url: string,
  token?: string,
  timeoutMs = 60_000,
  /** Called as each event arrives, before the stream ends. */
  onEvent?: (e: SseEvent) => void,
): Promise<SseEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const res = await fetch(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: controller.signal,
  });
  if (res.status !== 200) throw new Error(`events answered ${res.status}: ${await res.text()}`);
  const events: SseEvent[] = [];
  try {
    await parse(res.body!, (e) => {
      events.push(e);
      onEvent?.(e);
    });
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
  }
  return events;
}

export interface OpenEvents {
  /** Events received so far. */
  events: SseEvent[];
  /** Resolves once the first event named `name` has arrived; rejects after `timeoutMs`. */
  until(name: string, timeoutMs?: number): Promise<SseEvent>;
  /** 'ended' when the server ends the stream within `timeoutMs`, 'open' otherwise. */
  end(timeoutMs: number): Promise<'ended' | 'open'>;
  close(): void;
}

/** Opens a stream and reads it in the background. */
export async function openEvents(url: string, token?: string): Promise<OpenEvents> {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: controller.signal,
  });
  if (res.status !== 200) throw new Error(`events answered ${res.status}: ${await res.text()}`);
  const events: SseEvent[] = [];
  let ended = false;
  parse(res.body!, (e) => events.push(e)).then(
    () => {
      ended = true;
    },
    () => {
      ended = true;
    },
  );
  /** Polls `done` until it holds or the time is up; answers whether it held. */
  const poll = async (done: () => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    return done();
  };
  return {
    events,
    async until(name, timeoutMs = 10_000) {
      const found = () => events.find((e) => e.event === name);
      if (!(await poll(() => !!found(), timeoutMs))) {
        throw new Error(`no ${name} event within ${timeoutMs} ms: ${JSON.stringify(events)}`);
      }
      return found()!;
    },
    end: async (timeoutMs) => ((await poll(() => ended, timeoutMs)) ? 'ended' : 'open'),
    close: () => controller.abort(),
  };
}
