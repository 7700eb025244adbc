import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, type Problem, type ProblemField } from '../../common/problem.js';
import { PROBLEMS, ProblemError, problemType, type ProblemCode } from '../core/errors.js';

export function problem(code: ProblemCode, detail?: string, errors?: ProblemField[], instance?: string): Problem {
  const p: Problem = { type: problemType(code), title: PROBLEMS[code].title, status: PROBLEMS[code].status, code };
  if (detail) p.detail = detail;
  if (instance) p.instance = instance;
  if (errors?.length) p.errors = errors;
  return p;
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type(PROBLEM_CONTENT_TYPE).send(p);
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** `body/content`, `query/limit`, … from an Ajv error. */
function fieldOf(context: string, e: AjvError): string {
  if (context === 'querystring') context = 'query';
  const path = e.instancePath.replace(/^\//, '');
  const extra = (e.params.missingProperty ?? e.params.additionalProperty) as string | undefined;
  return [context, path, extra].filter(Boolean).join('/');
}

function describe(e: AjvError): string {
  if (e.keyword === 'additionalProperties') return 'unknown field';
  if (e.keyword === 'required') return 'is required';
  return e.message ?? e.keyword;
}

const FASTIFY_CODES: Record<string, ProblemCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_BAD_URL: 'not_found',
  FST_ERR_ASYNC_CONSTRAINT: 'validation',
};

/** One place that turns anything thrown into problem+json; client mistakes are never 500s. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ProblemError) {
      return sendProblem(reply, problem(err.code, err.message, err.field ? [{ field: err.field, message: err.message }] : undefined));
    }
    if (err.validation) {
      const errors = (err.validation as AjvError[]).map((e) => ({ field: fieldOf(err.validationContext ?? 'body', e), message: describe(e) }));
      const first = errors[0];
      return sendProblem(reply, problem('validation', first ? `${first.field}: ${first.message}` : err.message, errors));
    }
    const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (mapped) return sendProblem(reply, problem(mapped, err.message, mapped === 'malformed_json' ? [{ field: 'body', message: err.message }] : undefined));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendProblem(reply, { ...problem('validation', err.message), status: err.statusCode });
    }
    request.log.error({ err, method: request.method, url: request.url }, 'unhandled error');
    return sendProblem(reply, problem('internal', 'unexpected error; it has been logged'));
  });

  app.setNotFoundHandler((request, reply) => sendProblem(reply, problem('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)));
}
