/** A plugin's name as its manifest gives it (`@voxel51/annotation`): what executor tokens may be limited to. */
export const PLUGIN_NAME_PATTERN = /^[A-Za-z0-9@][A-Za-z0-9@._\/-]{0,199}$/;
export const PLUGIN_NAME_RULE = 'must be a plugin name of 1-200 characters (letters, digits, @ . _ / -)';
