import { PluginContext } from '../../src/client/plugin-context';

/** SPEC §5: values pushed over the values-mode stream, against resolve replies that overtake them. */
describe('PluginContext.applyPushed', () => {
  const reply = (revision: number, secrets: Record<string, string>) => ({ secrets, missing: [], unreadable: [], revision });
  const context = () => {
    const ctx = new PluginContext({ name: 'p', secrets: ['A', 'B'] }, 'store-only', {});
    ctx.applySnapshot(reply(10, { A: 'a10', B: 'b10' }));
    return ctx;
  };

  it('a reply read before a pushed value does not put the older value back; a reply read after it wins', () => {
    const ctx = context();
    ctx.applyPushed('A', 'a12', 12);
    ctx.applySnapshot(reply(11, { A: 'a11', B: 'b11' }));
    expect([ctx.secrets.get('A'), ctx.secrets.get('B')]).toEqual(['a12', 'b11']);
    ctx.applySnapshot(reply(13, { B: 'b13' }));
    expect([ctx.secrets.get('A'), ctx.secrets.get('B')]).toEqual([undefined, 'b13']);
  });

  it('a push no newer than the snapshot or the last push of the key changes nothing, and emits nothing', () => {
    const ctx = context();
    const changes: string[][] = [];
    ctx.on('change', (keys) => changes.push(keys));
    ctx.applyPushed('A', 'stale', 10);
    ctx.applyPushed('B', 'b15', 15);
    ctx.applyPushed('B', 'b14', 14);
    expect([ctx.secrets.get('A'), ctx.secrets.get('B'), changes]).toEqual(['a10', 'b15', [['B']]]);
  });

  it('an undeclared key is never taken', () => {
    const ctx = context();
    ctx.applyPushed('C', 'c12', 12);
    expect(() => ctx.secrets.get('C')).toThrow();
    expect(ctx.secrets.keys()).toEqual(['A', 'B']);
  });
});
