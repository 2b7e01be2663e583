/** A plugin's name as its manifest gives it (`@voxel51/annotation`): what executor tokens may be limited to. */
export const PLUGIN_NAME_PATTERN = /^[A-Za-z0-9@][A-Za-z0-9@._\/-]{0,199}$/;
export const PLUGIN_NAME_RULE = 'must be a plugin name of 1-200 characters (letters, digits, @ . _ / -)';

/**
 * The plugins a person lists, in the CLI (`--plugin a,b --plugin c`) and the console's token
 * form alike: separated by commas or whitespace (neither is ever part of a name), given once or
 * repeated; blanks and repeats are dropped, the order kept. The names themselves are the
 * service's to judge.
 */
export function listedPlugins(inputs: readonly string[]): string[] {
  return [...new Set(inputs.flatMap((input) => input.split(/[\s,]+/)).filter((name) => name !== ''))];
}
