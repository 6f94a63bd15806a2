// The outbox relayed to NATS JetStream (a server on 127.0.0.1:4222, or NATS_TEST_URL): subjects named
// after the event type, the event id as message id, and a durable consumer that resumes after a restart
// without loss while the relay publishes again what it had published. Skipped when no server answers.
// Each run uses a stream and subject prefix of its own, deleted at the end.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  AckPolicy,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { sql } from 'kysely';
import { z } from 'zod';
import { createDatabase, type Database } from '../src/platform/db/database.ts';
import { createEventBus, type EventBus } from '../src/platform/events/bus.ts';
import { emit } from '../src/platform/events/emit.ts';
import { defineEvent } from '../src/platform/events/event.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';

const NATS_URL = process.env.NATS_TEST_URL ?? 'nats://127.0.0.1:4222';
const logger = createLogger(process.env.VIREO_TEST_LOG ?? 'silent');

async function natsAnswers(): Promise<boolean> {
  try {
    const nc = await connect({ servers: NATS_URL, timeout: 1500, reconnect: false });
    const jsm = await jetstreamManager(nc);
    await jsm.getAccountInfo();
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

const available = await natsAnswers();
const skip = available ? false : `no NATS JetStream server answers on ${NATS_URL}`;
if (skip) console.log(`# outbox-nats: skipped: ${skip}`);

const uploaded = defineEvent({ type: 'video.uploaded', payload: z.object({ n: z.number().int() }) });
const created = defineEvent({ type: 'user.created', payload: z.object({ n: z.number().int() }) });

interface Body {
  id: string;
  type: string;
  aggregate: { type: string; id: string };
  payload: { n: number };
  occurred_at: string;
}

describe('outbox to NATS JetStream', { skip }, () => {
  const run = randomBytes(4).toString('hex');
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const streams: string[] = [];
  let test: TestDatabase;
  let database: Database;
  const buses: EventBus[] = [];

  before(async () => {
    nc = await connect({ servers: NATS_URL });
    jsm = await jetstreamManager(nc);
  });
  after(async () => {
    for (const s of streams) await jsm.streams.delete(s).catch(() => {});
    await nc.close();
  });
  afterEach(async () => {
    for (const b of buses.splice(0)) await b.stop();
    await database?.close();
    await test?.drop();
  });

  /** A database, a stream name and a subject prefix for this test alone. */
  async function setUp(name: string) {
    test = await createTestDatabase();
    database = createDatabase(test.url, 6);
    const stream = `VIREO_TEST_${run}_${name}`;
    streams.push(stream);
    return { stream, prefix: `t${run}${name}` };
  }

  function startBus(stream: string, prefix: string): Promise<EventBus> {
    const b = createEventBus({
      db: database.db,
      databaseUrl: test.url,
      logger,
      pollIntervalMs: 100,
      batchSize: 16,
      nats: { url: NATS_URL, stream, subjectPrefix: prefix },
    });
    buses.push(b);
    return b.start().then(() => b);
  }

  async function emitOne(def: typeof uploaded, aggregateId: string, n: number): Promise<string> {
    return database.db.transaction().execute((tx) => emit(tx, def.create({ aggregateId, payload: { n } })));
  }

  it('publishes each event on the subject named after its type, with its id as message id', async () => {
    const { stream, prefix } = await setUp('subjects');
    await startBus(stream, prefix);
    const ids = [
      await emitOne(uploaded, 'v1', 0),
      await emitOne(created, 'u1', 0),
      await emitOne(uploaded, 'v1', 1),
      await emitOne(uploaded, 'v2', 0),
    ];
    await waitFor('four messages', async () => {
      const info = await jsm.streams.info(stream).catch(() => undefined);
      return info && info.state.messages >= 4;
    });
    const info = await jsm.streams.info(stream);
    assert.deepEqual(info.config.subjects.sort(), [`${prefix}.user.>`, `${prefix}.video.>`]);
    const consumer = await jetstream(nc).consumers.get(stream);
    const got: Array<{ subject: string; msgId?: string; body: Body }> = [];
    for (let i = 0; i < 4; i++) {
      const m = await consumer.next({ expires: 5000 });
      assert.ok(m, 'a message is missing');
      got.push({ subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id'), body: m.json<Body>() });
    }
    assert.deepEqual(
      got.map((g) => g.subject),
      [
        `${prefix}.video.uploaded`,
        `${prefix}.user.created`,
        `${prefix}.video.uploaded`,
        `${prefix}.video.uploaded`,
      ],
    );
    assert.deepEqual(
      got.map((g) => g.msgId),
      ids,
    );
    assert.deepEqual(
      got.map((g) => g.body.id),
      ids,
    );
    assert.deepEqual(got[0]!.body.aggregate, { type: 'video', id: 'v1' });
    assert.deepEqual(got[2]!.body.payload, { n: 1 });
    assert.ok(!Number.isNaN(Date.parse(got[0]!.body.occurred_at)));
  });

  it('lets a durable consumer resume after a restart, without loss or duplicates when the relay publishes again', async () => {
    const { stream, prefix } = await setUp('resume');
    let bus = await startBus(stream, prefix);
    const aggregates = ['a', 'b', 'c', 'd'];
    const next = new Map(aggregates.map((a) => [a, 0]));
    const emitSome = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const a = aggregates[i % aggregates.length]!;
        await emitOne(uploaded, a, next.get(a)!);
        next.set(a, next.get(a)! + 1);
      }
    };
    await emitSome(60);
    await waitFor('the stream', () => jsm.streams.info(stream).catch(() => undefined));
    await jsm.consumers.add(stream, {
      durable_name: 'reader',
      ack_policy: AckPolicy.Explicit,
      filter_subject: `${prefix}.video.>`,
    });

    const received: Body[] = [];
    const consume = async (conn: NatsConnection, upTo: number) => {
      const consumer = await jetstream(conn).consumers.get(stream, 'reader');
      while (received.length < upTo) {
        const m: JsMsg | null = await consumer.next({ expires: 2000 });
        if (!m) continue;
        received.push(m.json<Body>());
        await m.ackAck();
      }
    };

    // The consumer reads part of the stream, then goes away.
    const first = await connect({ servers: NATS_URL });
    await consume(first, 25);
    await first.close();

    // Meanwhile the relay restarts, and publishes again everything it had published, as after a crash
    // between JetStream's acknowledgement and the commit of its progress.
    await bus.stop();
    buses.splice(buses.indexOf(bus), 1);
    await emitSome(40);
    await sql`update outbox_subscriptions set cursor_txid = 0, cursor_position = 0 where name = ${`nats:${stream}`}`.execute(
      database.db,
    );
    bus = await startBus(stream, prefix);
    await emitSome(20);

    const second = await connect({ servers: NATS_URL });
    await consume(second, 120);
    // Nothing more comes: the events published again were dropped as duplicates.
    const consumer = await jetstream(second).consumers.get(stream, 'reader');
    assert.equal(await consumer.next({ expires: 1500 }), null, 'a message was delivered twice');
    await second.close();

    assert.equal((await jsm.streams.info(stream)).state.messages, 120);
    const ids = received.map((b) => b.id);
    assert.equal(new Set(ids).size, 120);
    const { rows } = await sql<{ id: string }>`select id::text from outbox_events`.execute(database.db);
    assert.deepEqual(new Set(ids), new Set(rows.map((r) => r.id)));
    for (const a of aggregates) {
      assert.deepEqual(
        received.filter((b) => b.aggregate.id === a).map((b) => b.payload.n),
        Array.from({ length: 30 }, (_, i) => i),
        `aggregate ${a} out of order or incomplete`,
      );
    }
  });
});
