import { Type } from '@sinclair/typebox';
import { Annotation, Page } from '../../../common/schemas.js';
import { params, responses, scopeOf, type Api, type RouteDeps } from './common.js';

export const AnnotationListQuery = Type.Object(
  {
    since: Type.Optional(Type.String({ format: 'date-time', description: 'only annotations created at or after this instant' })),
    minScore: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'only annotations scored at least this (unscored ones are left out)' })),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'e.g. toxicity, keyword, pii, flood' })),
    targetType: Type.Optional(Type.Union([Type.Literal('message'), Type.Literal('session')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** `GET …/annotations`: the project's annotations across sessions, newest first (e.g. "flagged in the last hour"). */
export function annotationRoutes(app: Api, { domain }: RouteDeps): void {
  app.get('/annotations', {
    config: { scope: 'messages' },
    schema: { tags: ['annotations'], params: params(), querystring: AnnotationListQuery, response: responses(200, Page(Annotation)) },
  }, async (req) => domain.annotations.recent(scopeOf(req), req.query));
}
