// Fastify bootstrap: zod schemas in and out, OpenAPI 3.1, problem+json errors, request ids, metrics.
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type onResponseHookHandler,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ErrorCode } from '../errors/codes.ts';
import { DomainError, type FieldError } from '../errors/domain-error.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { type AuthLevel, requireAuthLevels } from './auth-guard.ts';
import { answerClientError } from './client-errors.ts';
import { problemFor, problemSchema } from './errors.ts';
import { installJsonBodyParser } from './json-body.ts';
import { installSecurityHeaders } from './security-headers.ts';
import { serializerCompiler } from './serializer.ts';

export type HttpServer = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface HttpServerOptions {
  logger: Logger;
  metrics: Metrics;
  trustProxy: boolean;
  version: string;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export async function createHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    trustProxy: opts.trustProxy,
    bodyLimit: 1024 * 1024,
    // Keep a caller's request id when it looks like one, so logs line up across services.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // A URL the router cannot decode, or a path parameter past maxParamLength (414): Fastify would
    // answer in a JSON shape of its own that repeats the whole path.
    frameworkErrors: (error, request, reply) => {
      const problem =
        error.code === 'FST_ERR_BAD_URL'
          ? problemFor('MALFORMED_URL', 'The URL has an invalid percent-encoding')
          : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? problemFor('URL_TOO_LONG', 'A path segment of the URL is too long')
            : problemFor(
                'INTERNAL_ERROR',
                'Something went wrong on our side; the request id helps us find it',
              );
      if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
      sendProblem(reply, request.id, undefined, problem);
    },
    clientErrorHandler: answerClientError,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  installJsonBodyParser(app);
  app.setSerializerCompiler(serializerCompiler);
  requireAuthLevels(app);
  documentErrorResponses(app);

  await installSecurityHeaders(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Vireo API',
        version: opts.version,
        description:
          'Self-hostable video platform. Errors are RFC 9457 problem details with a stable `code`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Callback-style hooks: they run on every request, and an async hook costs a promise each time.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // The route template is known when the route is registered: each route gets its own timer hook,
  // so no request has to look its route up. Unmatched requests are counted by the not-found handler.
  app.addHook('onRoute', (route) => {
    const url = route.url;
    const observe: onResponseHookHandler = (request, reply, done) => {
      opts.metrics.httpDuration.observe(
        { method: request.method, route: url, status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
      done();
    };
    route.onResponse = [...[route.onResponse ?? []].flat(), observe];
  });

  app.setNotFoundHandler((request, reply) => {
    opts.metrics.httpDuration.observe(
      { method: request.method, route: 'unmatched', status_code: '404' },
      reply.elapsedTime / 1000,
    );
    sendProblem(
      reply,
      request.id,
      request.url,
      problemFor('NOT_FOUND', `No route for ${request.method} here`),
    );
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = toProblem(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    if (error instanceof DomainError) reply.headers(error.extra.headers ?? {});
    sendProblem(reply, request.id, request.url, problem);
  });
  return app;
}

/** Paths longer than this are the caller's input more than a name of anything here: not echoed. */
const MAX_INSTANCE_CHARS = 256;

function sendProblem(
  reply: FastifyReply,
  requestId: string,
  url: string | undefined,
  problem: ReturnType<typeof problemFor>,
) {
  const path = url?.split('?')[0];
  const instance = path && path.length <= MAX_INSTANCE_CHARS ? path : undefined;
  reply
    .status(problem.status)
    // Set here too: framework errors answer before any hook has run.
    .header('x-request-id', requestId)
    .header('x-content-type-options', 'nosniff')
    .type('application/problem+json')
    .serializer(JSON.stringify)
    .send({ ...problem, instance, request_id: requestId });
}

/** Maps any thrown error to a problem; the message of an unexpected error is never shown. */
function toProblem(error: FastifyError): ReturnType<typeof problemFor> {
  if (error instanceof DomainError) return problemFor(error.code, error.message, error.extra.fields);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'body';
    const fields: FieldError[] = [];
    for (const v of error.validation) {
      const field = v.instancePath.replace(/^\//, '').replaceAll('/', '.') || where;
      // One message per field: zod may report several rules broken by the same value.
      if (!fields.some((f) => f.field === field)) fields.push({ field, message: v.message ?? 'invalid' });
    }
    return problemFor(
      'VALIDATION_FAILED',
      `Invalid ${where}: ${fields.map((f) => f.field).join(', ')}`,
      fields,
    );
  }
  const status = error.statusCode ?? 500;
  const byStatus: Record<number, ErrorCode> = {
    400: 'MALFORMED_REQUEST',
    404: 'NOT_FOUND',
    413: 'PAYLOAD_TOO_LARGE',
    415: 'UNSUPPORTED_MEDIA_TYPE',
    429: 'RATE_LIMITED',
  };
  const code = byStatus[status];
  // Fastify's own 4xx messages (bad JSON, wrong content type) are safe and useful to show.
  if (code) return problemFor(code, error.message);
  return problemFor('INTERNAL_ERROR', 'Something went wrong on our side; the request id helps us find it');
}

/**
 * Adds the problem responses every route can give to its schema, so the OpenAPI document lists them:
 * 400 when it takes input, 401/403 when it needs a token, 500 always.
 */
function documentErrorResponses(app: FastifyInstance): void {
  const getUrls = new Set<string>();
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/v1') && !['/healthz', '/readyz'].includes(route.url)) return;
    const methods = [route.method].flat();
    if (methods.includes('GET')) getUrls.add(route.url);
    // @fastify/swagger leaves HEAD routes out, to skip the twin Fastify adds to each GET; a HEAD route
    // declared on its own (tus: the offset to resume from) is an operation of its own and is documented.
    if (methods.includes('HEAD') && !getUrls.has(route.url)) {
      route.config = { ...route.config, swagger: { ...route.config?.swagger, exposeHeadRoute: true } };
    }
    route.schema ??= {};
    const schema = route.schema;
    schema.response ??= {};
    const response = schema.response as Record<string, unknown>;
    const level = (route.config as { auth?: AuthLevel } | undefined)?.auth ?? 'public';
    const add = (status: number, description: string) => {
      response[status] ??= problemSchema.describe(description);
    };
    if (schema.body || schema.querystring || schema.params) add(400, 'Invalid input (VALIDATION_FAILED)');
    if (level === 'user' || level === 'admin' || level === 'optional') {
      add(401, 'Missing, expired or invalid token (TOKEN_MISSING, TOKEN_EXPIRED, TOKEN_INVALID)');
      add(403, 'Account hidden or not allowed (ACCOUNT_HIDDEN, PERMISSION_DENIED, ADMIN_REQUIRED)');
      // `{}` in the list: anonymous callers are welcome too.
      (schema as { security?: unknown }).security =
        level === 'optional' ? [{}, { bearer: [] }] : [{ bearer: [] }];
    }
    add(500, 'Unexpected error (INTERNAL_ERROR)');
  });
}

/** A schema for endpoints that answer nothing. */
export const noContent = z.null().describe('No content');
