import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PluginManifestError, loadPluginManifest } from '../../src/client';
import { tempDataDir } from '../support/test-app';

/** A manifest shaped like FiftyOne's public plugins: metadata, operators, panels around `secrets`. */
const FIFTYONE_HEAD = `name: "@voxel51/annotation"
type: plugin
author: Voxel51
version: 1.0.0
url: https://example.invalid/plugins/annotation
license: Apache 2.0
description: Utilities for integrating FiftyOne with annotation tools
fiftyone:
  version: ">=0.22"
operators:
  - request_annotations
  - load_annotations
panels:
  - annotation_panel
`;

describe('loadPluginManifest: what FiftyOne accepts', () => {
  const dir = tempDataDir('secrets-ledger-manifest-');
  afterAll(() => dir.cleanup());

  const manifest = (name: string, text: string) => {
    const path = join(dir.dir, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
    return path;
  };

  it('reads name, version and the declared secrets; other top-level keys are ignored', async () => {
    const path = manifest('ok.yml', `${FIFTYONE_HEAD}secrets:\n  - FIFTYONE_CVAT_URL\n  - FIFTYONE_CVAT_PASSWORD\n`);
    await expect(loadPluginManifest(path)).resolves.toEqual({
      name: '@voxel51/annotation',
      version: '1.0.0',
      secrets: ['FIFTYONE_CVAT_URL', 'FIFTYONE_CVAT_PASSWORD'],
      warnings: [],
    });
  });

  it.each([
    ['absent', ''],
    ['null', 'secrets:\n'],
    ['an empty list', 'secrets: []\n'],
  ])('`secrets` %s: no secrets and no warning', async (label, tail) => {
    const path = manifest(`none-${label.replace(/\s/g, '-')}.yml`, FIFTYONE_HEAD + tail);
    await expect(loadPluginManifest(path)).resolves.toEqual({ name: '@voxel51/annotation', version: '1.0.0', secrets: [], warnings: [] });
  });

  it('a repeated key counts once, with a warning', async () => {
    const loaded = await loadPluginManifest(manifest('repeat.yml', `${FIFTYONE_HEAD}secrets: [FIFTYONE_CVAT_URL, FIFTYONE_CVAT_URL, FIFTYONE_V7_API_KEY]\n`));
    expect(loaded.secrets).toEqual(['FIFTYONE_CVAT_URL', 'FIFTYONE_V7_API_KEY']);
    expect(loaded.warnings).toEqual([expect.stringMatching(/secrets\[1\] repeats FIFTYONE_CVAT_URL: counted once/)]);
  });

  it('a lower-case key is kept (the environment may provide it) and named in the warnings; the keys beside it stay', async () => {
    const loaded = await loadPluginManifest(manifest('lower.yml', `${FIFTYONE_HEAD}secrets:\n  - HF_TOKEN\n  - hf_endpoint\n  - FIFTYONE_CVAT_URL\n`));
    expect(loaded.secrets).toEqual(['HF_TOKEN', 'hf_endpoint', 'FIFTYONE_CVAT_URL']);
    expect(loaded.warnings).toEqual([expect.stringMatching(/secrets\[1\] "hf_endpoint" is not a valid secret key .*only from the environment, never from the store/)]);
  });

  it('an entry that is not a key name is ignored, with a warning', async () => {
    const loaded = await loadPluginManifest(manifest('odd.yml', `${FIFTYONE_HEAD}secrets:\n  - A_KEY\n  - 42\n  - \n`));
    expect(loaded.secrets).toEqual(['A_KEY']);
    expect(loaded.warnings).toHaveLength(2);
  });

  it.each([
    ['fiftyone.yml', 'dir-yml'],
    ['fiftyone.yaml', 'dir-yaml'],
  ])('a plugin directory holding %s', async (file, folder) => {
    manifest(`${folder}/${file}`, `${FIFTYONE_HEAD}secrets: [FIFTYONE_LABELBOX_API_KEY]\n`);
    await expect(loadPluginManifest(join(dir.dir, folder))).resolves.toMatchObject({ name: '@voxel51/annotation', secrets: ['FIFTYONE_LABELBOX_API_KEY'] });
  });

  it.each([
    ['a missing file', () => join(dir.dir, 'absent.yml'), /absent\.yml: plugin manifest not found/],
    ['a directory without a manifest', () => (mkdirSync(join(dir.dir, 'empty-plugin'), { recursive: true }), join(dir.dir, 'empty-plugin')), /empty-plugin: a plugin directory without fiftyone\.yml or fiftyone\.yaml/],
    ['bad YAML', () => manifest('bad.yml', 'name: x\nsecrets: [A, B\n'), /bad\.yml: not valid YAML/],
    ['no name', () => manifest('noname.yml', 'secrets: [A]\n'), /`name` must be a non-empty string/],
    ['secrets not a list', () => manifest('map.yml', 'name: x\nsecrets: A\n'), /`secrets` must be a list/],
  ])('%s: a PluginManifestError that says what is wrong', async (_label, path, message) => {
    const error = await loadPluginManifest(path()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginManifestError);
    expect((error as Error).message).toMatch(message);
  });
});
