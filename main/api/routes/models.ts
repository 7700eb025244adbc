import { Type } from '@sinclair/typebox';
import { Nullable } from '../../../common/schemas.js';
import { ProblemError } from '../../core/errors.js';
import { ModelError } from '../../bot/models.js';
import type { ModelService } from '../../bot/model-service.js';
import { principal } from '../auth.js';
import { noContent, responses, type Api } from './common.js';

const Model = Type.Object({
  name: Type.String(),
  path: Type.String(),
  sizeBytes: Type.Integer(),
  source: Type.Union([Type.Literal('data'), Type.Literal('bundled')]),
  type: Type.String({ description: 'tiny, base, small, medium, large (from the header)' }),
  multilingual: Type.Boolean(),
});
const Download = Type.Object({ name: Type.String(), receivedBytes: Type.Integer(), totalBytes: Nullable(Type.Integer()), startedAt: Type.String({ format: 'date-time' }) });
const Overview = Type.Object({
  dir: Type.String({ description: 'where imported and downloaded models live' }),
  items: Type.Array(Model),
  catalog: Type.Array(Type.Object({ name: Type.String(), sizeMiB: Type.Integer(), multilingual: Type.Boolean(), installed: Type.Boolean() })),
  downloads: Type.Array(Download),
});
const ModelName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
const ImportBody = Type.Object(
  { path: Type.String({ minLength: 1, maxLength: 4096, description: 'a .bin file on the machine running Cortex' }), name: Type.Optional(ModelName) },
  { additionalProperties: false },
);
const DownloadBody = Type.Object({ name: ModelName }, { additionalProperties: false });

/** ModelError → problem+json, naming the field the client got wrong. */
function problem(err: unknown, field: string): never {
  if (err instanceof ModelError) {
    if (err.kind === 'invalid') throw new ProblemError('validation', err.message, field);
    if (err.kind === 'not_found') throw new ProblemError('not_found', err.message, field);
    if (err.kind === 'exists') throw new ProblemError('conflict', err.message, field);
  }
  throw err;
}

/** Whisper models: list, import a local file, download by name (progress arrives as events), remove. */
export function modelRoutes(app: Api, models: ModelService): void {
  const t = { tags: ['models'] };
  const c = { scope: 'models' as const };
  app.get('/models', { config: c, schema: { ...t, response: responses(200, Overview) } }, async () => models.overview());
  app.post('/models/import', { config: c, schema: { ...t, body: ImportBody, response: responses(201, Model) } }, async (req, reply) => {
    const m = await models.store.import(req.body.path, req.body.name).catch((err: unknown) => problem(err, 'body/path'));
    return reply.code(201).send(m);
  });
  app.post('/models/download', { config: c, schema: { ...t, body: DownloadBody, response: { 202: Download, ...responses(200, Download) } } }, async (req, reply) => {
    const d = await models.startDownload(principal(req).tenantId, req.body.name).catch((err: unknown) => problem(err, 'body/name'));
    return reply.code(202).send(d);
  });
  app.delete('/models/:name', { config: c, schema: { ...t, params: Type.Object({ name: ModelName }), response: noContent } }, async (req, reply) => {
    if (!(await models.store.remove(req.params.name))) throw new ProblemError('not_found', `no imported or downloaded model named ${req.params.name}`, 'params/name');
    return reply.code(204).send(null);
  });
}
