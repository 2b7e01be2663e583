"""The plugin as FiftyOne loads it (its default entry point, `__init__.py`).

A sketch, not Voxel51's plugin: one operator reporting which backends are configured. FiftyOne
gives an operator its declared secrets in `ctx.secrets`; open-source FiftyOne fills them from
the environment, which is where `secrets-ledger run` puts them.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from backends import BACKENDS, configured_backends  # noqa: E402

try:
    import fiftyone.operators as foo
except ImportError:  # run without FiftyOne (the tests, `python3 examples/annotation-plugin`)
    foo = None


if foo is not None:

    class GetAnnotationInfo(foo.Operator):
        @property
        def config(self):
            return foo.OperatorConfig(name="get_annotation_info", label="Annotation backends")

        def execute(self, ctx):
            keys = [key for location, credentials in BACKENDS.values() for key in [location, *credentials]]
            return {"backends": configured_backends({key: ctx.secrets.get(key) for key in keys})}

    def register(p):
        p.register(GetAnnotationInfo)
