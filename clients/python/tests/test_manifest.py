"""Manifests read as FiftyOne and the TypeScript SDK read them (SPEC §5)."""

import pytest
from conftest import ANNOTATION_PLUGIN

from secrets_ledger import PluginManifestError, load_plugin_manifest

ANNOTATION_KEYS = [
    "FIFTYONE_ANNOTATION_BACKENDS",
    "FIFTYONE_ANNOTATION_DEFAULT_BACKEND",
    "FIFTYONE_CVAT_URL",
    "FIFTYONE_CVAT_USERNAME",
    "FIFTYONE_CVAT_PASSWORD",
    "FIFTYONE_CVAT_EMAIL",
    "FIFTYONE_LABELBOX_URL",
    "FIFTYONE_LABELBOX_API_KEY",
    "FIFTYONE_LABELSTUDIO_URL",
    "FIFTYONE_LABELSTUDIO_API_KEY",
    "FIFTYONE_DARWIN_CONFIG_CLS",
    "FIFTYONE_DARWIN_API_KEY",
]


def test_the_annotation_plugin_from_its_directory_or_its_file():
    for path in (ANNOTATION_PLUGIN, ANNOTATION_PLUGIN / "fiftyone.yml", str(ANNOTATION_PLUGIN)):
        manifest = load_plugin_manifest(path)
        assert manifest.name == "@voxel51/annotation"
        assert manifest.version == "1.0.0"
        assert manifest.secrets == ANNOTATION_KEYS
        assert manifest.warnings == []


def test_fiftyone_yaml_is_found_too_and_yml_comes_first(tmp_path):
    (tmp_path / "fiftyone.yaml").write_text("name: from-yaml\n")
    assert load_plugin_manifest(tmp_path).name == "from-yaml"
    (tmp_path / "fiftyone.yml").write_text("name: from-yml\n")
    assert load_plugin_manifest(tmp_path).name == "from-yml"


def test_lenient_as_fiftyone_each_oddity_named_in_warnings(tmp_path):
    (tmp_path / "fiftyone.yml").write_text(
        "name: odd\nversion: 2\noperators: [x]\nsecrets:\n  - GOOD_KEY\n  - GOOD_KEY\n  - hf_endpoint\n  - 7\n  - ''\n"
    )
    manifest = load_plugin_manifest(tmp_path)
    assert manifest.secrets == ["GOOD_KEY", "hf_endpoint"]
    assert manifest.store_keys == ["GOOD_KEY"]
    assert manifest.version == "2"
    warnings = "\n".join(manifest.warnings)
    assert "secrets[1] repeats GOOD_KEY: counted once" in warnings
    assert 'secrets[2] "hf_endpoint" is not a valid secret key' in warnings
    assert "secrets[3] is not a key name (7): ignored" in warnings
    assert 'secrets[4] is not a key name (""): ignored' in warnings


@pytest.mark.parametrize("secrets", ["", "secrets:\n", "secrets: []\n"])
def test_no_secrets_means_none(tmp_path, secrets):
    (tmp_path / "fiftyone.yml").write_text("name: quiet\n" + secrets)
    assert load_plugin_manifest(tmp_path).secrets == []


@pytest.mark.parametrize(
    "text, problem",
    [
        ("secrets: [A]\n", "`name` must be a non-empty string"),
        ("name: '  '\n", "`name` must be a non-empty string"),
        ("name: x\nsecrets: A\n", "`secrets` must be a list of keys"),
        ("- a list\n", "expected a mapping with at least `name`"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_a_bad_manifest_says_what_is_wrong(tmp_path, text, problem):
    (tmp_path / "fiftyone.yml").write_text(text)
    with pytest.raises(PluginManifestError, match=problem):
        load_plugin_manifest(tmp_path / "fiftyone.yml")


def test_a_missing_manifest_or_an_empty_plugin_directory(tmp_path):
    with pytest.raises(PluginManifestError, match="plugin manifest not found"):
        load_plugin_manifest(tmp_path / "nowhere")
    with pytest.raises(PluginManifestError, match="a plugin directory without fiftyone.yml or fiftyone.yaml"):
        load_plugin_manifest(tmp_path)
