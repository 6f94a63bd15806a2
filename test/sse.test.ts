// The platform's Server-Sent Events: framing, heartbeats, the end of a stream when its client leaves,
// and at the server's shutdown.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import Fastify from 'fastify';
import { type SseStream, sseStreams } from '../src/platform/realtime/sse.ts';

async function serve(onOpen: (stream: SseStream) => void, heartbeatMs = 60_000) {
  const app = Fastify();
  const streams = sseStreams(app);
  let heartbeats = 0;
  app.get('/events', async (req, reply) => {
    onOpen(streams.open(req, reply, { heartbeatMs, onHeartbeat: () => heartbeats++ }));
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { app, streams, url: `http://127.0.0.1:${port}/events`, heartbeats: () => heartbeats };
}

/** Opens the stream; `text()` is what arrived so far, `ended` settles when the server ends it. */
function connect(url: string) {
  return new Promise<{ res: http.IncomingMessage; text: () => string; ended: Promise<void> }>(
    (resolve, reject) => {
      http
        .get(url, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          const ended = new Promise<void>((done) => res.on('end', done));
          resolve({ res, text: () => text, ended });
        })
        .on('error', reject);
    },
  );
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await delay(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('SSE streams', () => {
  it('writes events with their name, JSON data and optional id', async () => {
    const { app, url } = await serve((stream) => {
      stream.send('progress', { percent: 5, note: 'a\nb' });
      stream.send('ready', 'done', '42');
      stream.close();
    });
    try {
      const client = await connect(url);
      await client.ended;
      assert.equal(client.res.statusCode, 200);
      assert.equal(client.res.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.equal(client.res.headers['cache-control'], 'no-cache, no-transform');
      assert.ok(client.res.headers['x-request-id']);
      assert.equal(
        client.text(),
        'event: progress\ndata: {"percent":5,"note":"a\\nb"}\n\nid: 42\nevent: ready\ndata: "done"\n\n',
      );
    } finally {
      await app.close();
    }
  });

  it('refuses an event name or id that would break the framing', async () => {
    let failures: string[] = [];
    const { app, url } = await serve((stream) => {
      for (const send of [() => stream.send('a\nb', 1), () => stream.send('a', 1, 'x\ry')]) {
        try {
          send();
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
      stream.close();
    });
    try {
      const client = await connect(url);
      await client.ended;
      assert.equal(failures.length, 2, failures.join('; '));
      assert.equal(client.text(), '');
    } finally {
      failures = [];
      await app.close();
    }
  });

  it('writes heartbeat comments and calls back after each', async () => {
    const { app, url, heartbeats } = await serve(() => {}, 30);
    try {
      const client = await connect(url);
      await until(() => client.text().length >= 2 * ': heartbeat\n\n'.length, 'two heartbeats');
      assert.match(client.text(), /^(: heartbeat\n\n){2,}$/);
      assert.ok(heartbeats() >= 2);
      client.res.destroy();
    } finally {
      await app.close();
    }
  });

  it('ends a stream when its client leaves, once, and writes nothing after', async () => {
    let opened: SseStream | undefined;
    let closes = 0;
    const { app, streams, url, heartbeats } = await serve((stream) => {
      opened = stream;
      stream.onClose(() => closes++);
    }, 30);
    try {
      const client = await connect(url);
      await until(() => streams.size === 1, 'the stream to open');
      client.res.destroy();
      await until(() => opened!.closed, 'the stream to close');
      assert.equal(streams.size, 0);
      opened!.send('late', 1);
      opened!.close();
      const beats = heartbeats();
      await delay(100);
      assert.equal(heartbeats(), beats, 'no heartbeat after the end');
      assert.equal(closes, 1);
    } finally {
      await app.close();
    }
  });

  it('ends the open streams when the server closes, rather than waiting on them', async () => {
    let closes = 0;
    const { app, streams, url } = await serve((stream) => stream.onClose(() => closes++));
    const clients = await Promise.all([connect(url), connect(url)]);
    await until(() => streams.size === 2, 'two streams');
    const closing = app.close();
    const ended = Promise.all([closing, ...clients.map((c) => c.ended)]).then(() => true);
    const inTime = await Promise.race([ended, delay(5000).then(() => false)]);
    for (const c of clients) c.res.destroy();
    await closing;
    assert.ok(inTime, 'the server waited on its open streams');
    assert.equal(closes, 2);
    assert.equal(streams.size, 0);
  });
});
