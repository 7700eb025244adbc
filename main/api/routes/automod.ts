import {
  AutomodRule, AutomodRuleCreate, AutomodRuleTest, AutomodRuleUpdate, AutomodTestResult, ParticipantSanctionsQuery, ReviewItemView, ReviewListQuery,
  ReviewResolve,
} from '../../../common/automod-schemas.js';
import { Page, PageQuery, Sanction } from '../../../common/schemas.js';
import type { Automod } from '../../automod/index.js';
import { actorOf, noContent, params, responses, scopeOf, type Api, type RouteDeps } from './common.js';

/**
 * A participant's sanctions, automod rules (with their dry run) and the review queue. Without
 * `automod` (an API built without it) only the participant's sanctions are served.
 */
export function automodRoutes(app: Api, { domain, commit }: RouteDeps, automod?: Automod): void {
  const { sanctions, participants } = domain;
  app.get('/participants/:participantId/sanctions', {
    config: { scope: 'sanctions' },
    schema: { tags: ['sanctions'], params: params('participantId'), querystring: ParticipantSanctionsQuery, response: responses(200, Page(Sanction)) },
  }, async (req) => {
    const scope = scopeOf(req);
    participants.get(scope, req.params.participantId);
    return sanctions.list(scope, { ...req.query, participantId: req.params.participantId });
  });
  if (!automod) return;

  const { rules, review, dryRun } = automod;
  const a = { tags: ['automod'] };
  const ca = { scope: 'automod' as const };
  app.get('/automod/rules', { config: ca, schema: { ...a, params: params(), querystring: PageQuery, response: responses(200, Page(AutomodRule)) } },
    async (req) => rules.list(scopeOf(req), req.query));
  app.post('/automod/rules', { config: ca, schema: { ...a, params: params(), body: AutomodRuleCreate, response: responses(201, AutomodRule) } },
    async (req, reply) => reply.code(201).send(await commit(() => rules.create(scopeOf(req), req.body))));
  app.post('/automod/rules/test', {
    config: ca,
    schema: {
      ...a, params: params(), body: AutomodRuleTest, response: responses(200, AutomodTestResult),
      description: 'Dry run of an unsaved rule against the project\'s recent annotations: what would match and who would be actioned. Writes nothing.',
    },
  }, async (req) => dryRun(scopeOf(req), req.body));
  app.get('/automod/rules/:ruleId', { config: ca, schema: { ...a, params: params('ruleId'), response: responses(200, AutomodRule) } },
    async (req) => rules.get(scopeOf(req), req.params.ruleId));
  app.patch('/automod/rules/:ruleId', { config: ca, schema: { ...a, params: params('ruleId'), body: AutomodRuleUpdate, response: responses(200, AutomodRule) } },
    async (req) => commit(() => rules.update(scopeOf(req), req.params.ruleId, req.body)));
  app.delete('/automod/rules/:ruleId', { config: ca, schema: { ...a, params: params('ruleId'), response: noContent } },
    async (req, reply) => {
      await commit(() => rules.remove(scopeOf(req), req.params.ruleId));
      return reply.code(204).send(null);
    });

  const r = { tags: ['review'] };
  const cr = { scope: 'review' as const };
  app.get('/review', { config: cr, schema: { ...r, params: params(), querystring: ReviewListQuery, response: responses(200, Page(ReviewItemView)) } },
    async (req) => review.list(scopeOf(req), req.query));
  app.get('/review/:itemId', { config: cr, schema: { ...r, params: params('itemId'), response: responses(200, ReviewItemView) } },
    async (req) => review.get(scopeOf(req), req.params.itemId));
  app.post('/review/:itemId/resolve', { config: cr, schema: { ...r, params: params('itemId'), body: ReviewResolve, response: responses(200, ReviewItemView) } },
    async (req) => commit(() => review.resolve(scopeOf(req), req.params.itemId, req.body, actorOf(req))));
}
