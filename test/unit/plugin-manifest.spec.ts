import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PluginManifestError, loadPluginManifest } from '../../src/client';
import { tempDataDir } from '../support/test-app';

describe('loadPluginManifest', () => {
  const dir = tempDataDir('secrets-ledger-manifest-');
  afterAll(() => dir.cleanup());

  const manifest = (name: string, text: string) => {
    const path = join(dir.dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads name, version and the declared secrets of a fiftyone.yml', async () => {
    const path = manifest('ok.yml', 'name: "@voxel51/annotation"\nversion: 1.2\noperators:\n  - request_annotations\nsecrets:\n  - FIFTYONE_CVAT_URL\n  - FIFTYONE_CVAT_PASSWORD\n');
    await expect(loadPluginManifest(path)).resolves.toEqual({
      name: '@voxel51/annotation',
      version: '1.2',
      secrets: ['FIFTYONE_CVAT_URL', 'FIFTYONE_CVAT_PASSWORD'],
    });
  });

  it('a plugin without secrets declares none', async () => {
    await expect(loadPluginManifest(manifest('none.yml', 'name: plain\n'))).resolves.toEqual({ name: 'plain', secrets: [] });
  });

  it.each([
    ['a missing file', () => join(dir.dir, 'absent.yml'), /absent\.yml: plugin manifest not found/],
    ['bad YAML', () => manifest('bad.yml', 'name: x\nsecrets: [A, B\n'), /bad\.yml: not valid YAML/],
    ['an invalid key', () => manifest('key.yml', 'name: x\nsecrets:\n  - my_key\n'), /key\.yml: secrets\[0\] "my_key": must be upper snake case/],
    ['no name', () => manifest('noname.yml', 'secrets: [A]\n'), /`name` must be a non-empty string/],
    ['secrets not a list', () => manifest('map.yml', 'name: x\nsecrets: A\n'), /`secrets` must be a list/],
  ])('%s: a PluginManifestError that says what is wrong', async (_label, path, message) => {
    const error = await loadPluginManifest(path()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginManifestError);
    expect((error as Error).message).toMatch(message);
  });
});
