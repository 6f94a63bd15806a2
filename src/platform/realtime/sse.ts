// Server-Sent Events on a Fastify reply: the stream's headers, `event:`/`data:`/`id:` framing,
// heartbeat comments that keep proxies from timing the connection out, and the end of the stream when
// the client goes away. A registry keeps the open streams, so that the server ends them when it shuts
// down instead of waiting for their clients to leave.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const HEARTBEAT_MS = 15_000;

export interface SseStream {
  /** Writes one event; `data` goes as JSON. Nothing is written once the stream is closed. */
  send(event: string, data: unknown, id?: string): void;
  /** Ends the stream (idempotent); the close listeners run once. */
  close(): void;
  /** Runs when the stream ends, whoever ends it: the caller, the client or the server's shutdown. */
  onClose(listener: () => void): void;
  readonly closed: boolean;
}

export interface SseOptions {
  /** How often a comment line is written while nothing else is; 15 s unless told. */
  heartbeatMs?: number;
  /** Runs after each heartbeat: a moment to check what may have changed unheard. */
  onHeartbeat?: () => void;
}

/** A field value must be one line: a line break would end the field, or the event, early. */
function oneLine(field: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`SSE ${field} must not hold a line break`);
  return value;
}

export class SseStreams {
  private readonly streams = new Set<SseStream>();

  /** Takes the reply over (Fastify sends nothing more on it) and answers the open stream. */
  open(request: FastifyRequest, reply: FastifyReply, opts: SseOptions = {}): SseStream {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Tells nginx not to buffer the stream.
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    // Otherwise the headers wait for the first write: the client would not know the stream is open.
    res.flushHeaders();
    const listeners: Array<() => void> = [];
    let closed = false;
    const heartbeat = setInterval(() => {
      if (closed) return;
      res.write(': heartbeat\n\n');
      opts.onHeartbeat?.();
    }, opts.heartbeatMs ?? HEARTBEAT_MS);
    const stream: SseStream = {
      send: (event, data, id) => {
        if (closed) return;
        const head = id === undefined ? '' : `id: ${oneLine('id', id)}\n`;
        // JSON holds no raw line break, so the data is one `data:` line.
        res.write(`${head}event: ${oneLine('event', event)}\ndata: ${JSON.stringify(data) ?? 'null'}\n\n`);
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.streams.delete(stream);
        clearInterval(heartbeat);
        for (const listener of listeners.splice(0)) listener();
        res.end();
      },
      onClose: (listener) => {
        if (closed) listener();
        else listeners.push(listener);
      },
      get closed() {
        return closed;
      },
    };
    this.streams.add(stream);
    request.raw.on('close', stream.close);
    return stream;
  }

  get size(): number {
    return this.streams.size;
  }

  closeAll(): void {
    for (const stream of [...this.streams]) stream.close();
  }
}

/** Streams opened on this server, ended when it closes (before it waits for its connections). */
export function sseStreams(app: FastifyInstance): SseStreams {
  const streams = new SseStreams();
  app.addHook('preClose', async () => streams.closeAll());
  return streams;
}
