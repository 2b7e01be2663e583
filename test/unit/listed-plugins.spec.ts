import { PLUGIN_NAME_PATTERN, listedPlugins } from '../../src/auth/plugin-name';

/** Deterministic pseudo-random choices, so a failure names a seed that replays it. */
function chooser(seed: number) {
  let state = seed;
  const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
}

const NAMES = ['@voxel51/annotation', '@acme/cli-check', 'cvat', 'plugin.v2', '@a/b_c-d', 'x'];
const SEPARATORS = [',', ', ', ' ', '\t', ' ,', ',,', ' , '];

/** The rule the CLI's `--plugin` and the console's Plugins field share (tokens issue). */
describe('listedPlugins: plugins listed comma- or space-separated, once or repeated', () => {
  it('every name is a plugin name and none holds a separator (what makes splitting safe)', () => {
    for (const name of NAMES) expect(PLUGIN_NAME_PATTERN.test(name)).toBe(true);
    for (const separator of [',', ' ', '\t', '\n']) expect(PLUGIN_NAME_PATTERN.test(`a${separator}b`)).toBe(false);
  });

  it('finds the names however they are separated and spread over inputs, in order, each once', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const pick = chooser(seed);
      const names = Array.from({ length: 1 + (seed % 5) }, () => pick(NAMES));
      // Split the names over 1-3 inputs (repeated --plugin), each joined by random separators.
      const inputs: string[] = [];
      names.forEach((name, i) => {
        if (i === 0 || pick([true, false, false])) inputs.push(pick(['', ' ', ',']));
        inputs[inputs.length - 1] += `${name}${pick(SEPARATORS)}`;
      });
      expect({ seed, inputs, listed: listedPlugins(inputs) }).toEqual({ seed, inputs, listed: [...new Set(names)] });
    }
  });

  it('lists nothing for blank inputs', () => {
    expect(listedPlugins([])).toEqual([]);
    expect(listedPlugins(['', ' , ', '\t'])).toEqual([]);
  });
});
