import { Type } from '@sinclair/typebox';
import {
  Page, PageQuery, Webhook, WebhookCreate, WebhookDelivery, WebhookDeliveryDetail, WebhookDeliveryListQuery, WebhookUpdate, WebhookWithSecret,
} from '../../../common/schemas.js';
import type { Outbox } from '../../outbox/index.js';
import { noContent, params, responses, scopeOf, type Api, type RouteDeps } from './common.js';

const RotateBody = Type.Object(
  { secret: Type.Optional(WebhookCreate.properties.secret) },
  { additionalProperties: false },
);

const RedeliverAllBody = Type.Object(
  { status: Type.Union([Type.Literal('failed'), Type.Literal('exhausted')], { description: 'which deliveries to send again' }) },
  { additionalProperties: false },
);

/** Webhook subscriptions, their delivery log, redelivery and test pings. */
export function webhookRoutes(app: Api, { commit }: RouteDeps, outbox: Outbox): void {
  const { webhooks, deliveries } = outbox;
  const t = { tags: ['webhooks'] };
  const c = { scope: 'webhooks' as const };
  app.get('/webhooks', { config: c, schema: { ...t, params: params(), querystring: PageQuery, response: responses(200, Page(Webhook)) } },
    async (req) => webhooks.list(scopeOf(req), req.query));
  app.post('/webhooks', { config: c, schema: { ...t, params: params(), body: WebhookCreate, response: responses(201, WebhookWithSecret) } },
    async (req, reply) => reply.code(201).send(await commit(() => webhooks.create(scopeOf(req), req.body))));
  app.get('/webhooks/:webhookId', { config: c, schema: { ...t, params: params('webhookId'), response: responses(200, Webhook) } },
    async (req) => webhooks.get(scopeOf(req), req.params.webhookId));
  app.patch('/webhooks/:webhookId', { config: c, schema: { ...t, params: params('webhookId'), body: WebhookUpdate, response: responses(200, Webhook) } },
    async (req) => commit(() => webhooks.update(scopeOf(req), req.params.webhookId, req.body)));
  app.delete('/webhooks/:webhookId', { config: c, schema: { ...t, params: params('webhookId'), response: noContent } },
    async (req, reply) => {
      await commit(() => webhooks.remove(scopeOf(req), req.params.webhookId));
      return reply.code(204).send(null);
    });
  app.post('/webhooks/:webhookId/rotate-secret', {
    config: c,
    preValidation: async (req) => {
      req.body ??= {};
    },
    schema: { ...t, params: params('webhookId'), body: RotateBody, response: responses(200, WebhookWithSecret) },
  }, async (req) => commit(() => webhooks.rotateSecret(scopeOf(req), req.params.webhookId, req.body?.secret)));
  app.post('/webhooks/:webhookId/test', { config: c, schema: { ...t, params: params('webhookId'), response: { 202: WebhookDelivery, ...responses(200, WebhookDelivery) } } },
    async (req, reply) => {
      return reply.code(202).send(await commit(() => outbox.sendTest(scopeOf(req), req.params.webhookId)));
    });
  app.get('/webhooks/:webhookId/deliveries', {
    config: c, schema: { ...t, params: params('webhookId'), querystring: WebhookDeliveryListQuery, response: responses(200, Page(WebhookDelivery)) },
  }, async (req) => {
    const scope = scopeOf(req);
    webhooks.assertExists(scope, req.params.webhookId);
    return deliveries.list(scope, req.params.webhookId, req.query);
  });
  app.get('/webhooks/:webhookId/deliveries/:deliveryId', {
    config: c, schema: { ...t, params: params('webhookId', 'deliveryId'), response: responses(200, WebhookDeliveryDetail) },
  }, async (req) => deliveries.get(scopeOf(req), req.params.webhookId, req.params.deliveryId));
  app.post('/webhooks/:webhookId/redeliver', {
    config: c,
    schema: {
      ...t, params: params('webhookId'), body: RedeliverAllBody,
      description: 'Requeues every failed or exhausted delivery of the subscription; progress arrives as webhook.redelivery.progress events.',
      response: { 202: Type.Object({ count: Type.Integer() }), ...responses(200, Type.Object({ count: Type.Integer() })) },
    },
  }, async (req, reply) => reply.code(202).send(await commit(() => outbox.redeliverAll(scopeOf(req), req.params.webhookId, req.body.status))));
  app.post('/webhooks/:webhookId/deliveries/:deliveryId/redeliver', {
    config: c, schema: { ...t, params: params('webhookId', 'deliveryId'), response: { 202: WebhookDelivery, ...responses(200, WebhookDelivery) } },
  }, async (req, reply) => reply.code(202).send(await commit(() => outbox.redeliver(scopeOf(req), req.params.webhookId, req.params.deliveryId))));
}
