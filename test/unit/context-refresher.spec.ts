import { ContextRefresher } from '../../src/client/context-refresher';

/** A fake service revision and a log of when each resolve began (ms since the test started). */
function harness(holdMs = 200) {
  const started = Date.now();
  const resolves: number[] = [];
  /** The keys each resolve asked for: undefined for every key. */
  const asked: (string[] | undefined)[] = [];
  let revision = 10;
  let fail = false;
  const refresher = new ContextRefresher(async (keys) => {
    resolves.push(Date.now() - started);
    asked.push(keys);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (fail) throw new Error('service away');
    return revision;
  }, holdMs);
  return {
    refresher,
    resolves,
    asked,
    setRevision: (r: number) => (revision = r),
    setFailing: (f: boolean) => (fail = f),
  };
}

describe('ContextRefresher: what a notification may cost', () => {
  it('a true notification is answered at once, and so is the next one: no hold while claims come true', async () => {
    const h = harness();
    h.setRevision(11);
    await h.refresher.request(11);
    h.setRevision(12);
    await h.refresher.request(12);
    expect(h.resolves).toHaveLength(2);
    expect(h.resolves[1]).toBeLessThan(150);
  });

  it('requests during a resolve fold into exactly one more resolve after it', async () => {
    const h = harness();
    h.setRevision(11);
    const first = h.refresher.request(11);
    const during = Array.from({ length: 50 }, () => h.refresher.request(11));
    await Promise.all([first, ...during]);
    expect(h.resolves).toHaveLength(2);
  });

  it('a claim the service disproves holds the next resolve until holdMs after the disproved one began; the request is kept, not dropped', async () => {
    const h = harness(200);
    await h.refresher.request(1e12);
    const held = h.refresher.request(11);
    h.setRevision(11);
    await held;
    expect(h.resolves).toHaveLength(2);
    expect(h.resolves[1] - h.resolves[0]).toBeGreaterThanOrEqual(195);
  });

  it('a flood of false claims costs at most one resolve per hold, plus the first', async () => {
    const h = harness(100);
    const flood = Date.now();
    while (Date.now() - flood < 450) {
      void h.refresher.request(1e12);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await h.refresher.idle();
    expect(h.resolves.length).toBeGreaterThanOrEqual(2);
    expect(h.resolves.length).toBeLessThanOrEqual(2 + Math.ceil(450 / 100));
  });

  it('a failed resolve holds too, so a flood does not hammer a service that is away', async () => {
    const h = harness(200);
    h.setFailing(true);
    await h.refresher.request(11);
    const next = h.refresher.request(11);
    h.setFailing(false);
    await next;
    expect(h.resolves[1] - h.resolves[0]).toBeGreaterThanOrEqual(195);
  });

  it('requests for reasons of the client (reconnect, periodic) claim nothing and never hold', async () => {
    const h = harness(10_000);
    await h.refresher.request();
    await h.refresher.request();
    expect(h.resolves).toHaveLength(2);
    expect(h.resolves[1]).toBeLessThan(1_000);
  });

  it('close() releases waiters and stops further resolves', async () => {
    const h = harness(10_000);
    await h.refresher.request(1e12);
    const held = h.refresher.request(11);
    h.refresher.close();
    await held;
    await h.refresher.idle();
    expect(h.resolves).toHaveLength(1);
  });

  it('a flood of false claims naming keys is bounded the same way: one resolve per hold, plus the first', async () => {
    const h = harness(100);
    const flood = Date.now();
    for (let i = 0; Date.now() - flood < 450; i++) {
      void h.refresher.request(1e12, [`KEY_${i % 12}`]);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await h.refresher.idle();
    expect(h.resolves.length).toBeGreaterThanOrEqual(2);
    expect(h.resolves.length).toBeLessThanOrEqual(2 + Math.ceil(450 / 100));
    // Each resolve was a delta: nothing in the flood asked for every key.
    expect(h.asked.every((keys) => keys !== undefined && keys.length > 0)).toBe(true);
  });
});

describe('ContextRefresher: which keys a resolve asks for', () => {
  it('a request naming a key resolves that key alone', async () => {
    const h = harness();
    await h.refresher.request(11, ['A']);
    expect(h.asked).toEqual([['A']]);
  });

  it('requests during a resolve fold into one more resolve of the union of their keys', async () => {
    const h = harness();
    const first = h.refresher.request(11, ['A']);
    const during = ['B', 'C', 'B', 'D', 'C'].map((key) => h.refresher.request(11, [key]));
    await Promise.all([first, ...during]);
    expect(h.asked).toEqual([['A'], ['B', 'C', 'D']]);
  });

  it('a request for every key among them makes the folded resolve a full one', async () => {
    const h = harness();
    const first = h.refresher.request(11, ['A']);
    const during = [h.refresher.request(11, ['B']), h.refresher.request(), h.refresher.request(11, ['C'])];
    await Promise.all([first, ...during]);
    expect(h.asked).toEqual([['A'], undefined]);
  });

  it('keys asked once are not asked again by the next resolve', async () => {
    const h = harness();
    await h.refresher.request(11, ['A']);
    await h.refresher.request(12, ['B']);
    await h.refresher.request();
    await h.refresher.request(13, ['C']);
    expect(h.asked).toEqual([['A'], ['B'], undefined, ['C']]);
  });

  it('the keys of a failed resolve are asked again by the next one, which a request for another key starts', async () => {
    const h = harness(50);
    h.setFailing(true);
    await h.refresher.request(11, ['A']);
    h.setFailing(false);
    await h.refresher.request(11, ['B']);
    h.setFailing(true);
    await h.refresher.request();
    h.setFailing(false);
    await h.refresher.request(11, ['C']);
    expect(h.asked).toEqual([['A'], ['A', 'B'], undefined, undefined]);
  });

  it('owes the keys of a failed resolve until one asks for them; a request naming no key asks for those alone', async () => {
    const h = harness(50);
    expect(h.refresher.owes).toBe(false);
    h.setFailing(true);
    await h.refresher.request(11, ['A']);
    expect(h.refresher.owes).toBe(true);
    h.setFailing(false);
    await h.refresher.request(11, []);
    expect(h.refresher.owes).toBe(false);
    expect(h.asked).toEqual([['A'], ['A']]);
  });

  it('a held request keeps its keys: the resolve after the hold asks for them', async () => {
    const h = harness(200);
    await h.refresher.request(1e12, ['A']);
    const held = h.refresher.request(11, ['B']);
    h.setRevision(11);
    await held;
    expect(h.asked).toEqual([['A'], ['B']]);
    expect(h.resolves[1] - h.resolves[0]).toBeGreaterThanOrEqual(195);
  });
});
