import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { BUILTIN_PLUGINS, builtinPlugin } from '../../../main/plugins/builtin/index.js';
import { annotationsOf, makeCtx, message, messageEvent } from './ctx.js';

type Schema = { type: string; additionalProperties: boolean; properties: Record<string, { default?: unknown }> };

describe('built-in plugin catalog', () => {
  test('order and lookup', () => {
    assert.deepEqual(
      BUILTIN_PLUGINS.map((p) => p.manifest.id),
      ['toxicity', 'keywords', 'pii', 'flood', 'summary'],
    );
    for (const p of BUILTIN_PLUGINS) assert.equal(builtinPlugin(p.manifest.id), p);
    assert.equal(builtinPlugin('nope'), undefined);
  });

  for (const plugin of BUILTIN_PLUGINS) {
    const { manifest } = plugin;
    test(`${manifest.id}: manifest and settings schema`, () => {
      assert.match(manifest.id, /^[a-z0-9][a-z0-9-]*$/);
      assert.equal(manifest.version, '1.0.0');
      assert.ok(manifest.name && manifest.description);
      assert.ok(manifest.events.length > 0);
      const schema = manifest.settingsSchema as Schema;
      assert.equal(schema.type, 'object');
      assert.equal(schema.additionalProperties, false);
      for (const [key, prop] of Object.entries(schema.properties)) assert.ok('default' in prop, `${manifest.id}.${key} has a default`);

      // the host validates with Ajv and useDefaults: {} must become complete, valid settings
      const validate = new Ajv({ useDefaults: true, strict: true }).compile(manifest.settingsSchema);
      const settings: Record<string, unknown> = {};
      assert.ok(validate(settings), JSON.stringify(validate.errors));
      assert.deepEqual(Object.keys(settings).sort(), Object.keys(schema.properties).sort());
      assert.deepEqual(plugin.validateSettings?.(settings), []);
      assert.ok(!validate({ unknownSetting: 1 }));
    });
  }

  test('handlers work with schema-defaulted settings', async () => {
    const ajv = new Ajv({ useDefaults: true });
    const settingsOf = (id: string) => {
      const settings: Record<string, unknown> = {};
      ajv.compile(builtinPlugin(id)!.manifest.settingsSchema)(settings);
      return settings;
    };
    const toxic = await builtinPlugin('toxicity')!.handle(messageEvent(message('f u c k this')), makeCtx(settingsOf('toxicity')));
    assert.equal(annotationsOf(toxic)[0]?.type, 'toxicity');
    const pii = await builtinPlugin('pii')!.handle(messageEvent(message('mail me: jane@example.org')), makeCtx(settingsOf('pii')));
    assert.equal(annotationsOf(pii)[0]?.type, 'pii');
    const keywords = await builtinPlugin('keywords')!.handle(messageEvent(message('free robux')), makeCtx(settingsOf('keywords')));
    assert.equal(keywords, null);
  });

  test('keywords patterns get flags defaulted by the schema', () => {
    const settings: Record<string, unknown> = { patterns: [{ pattern: 'spam' }] };
    assert.ok(new Ajv({ useDefaults: true }).compile(builtinPlugin('keywords')!.manifest.settingsSchema)(settings));
    assert.deepEqual(settings.patterns, [{ pattern: 'spam', flags: '' }]);
  });
});
