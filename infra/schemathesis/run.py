"""schemathesis's CLI with one workaround (used by infra/scripts/schemathesis).

Hypothesis describes the lambdas in its strategies by parsing their source file with `ast`.
On CPython 3.11.7 (this machine's Python) that parse can fail deep in the generator's
recursion with "SystemError: AST constructor recursion depth mismatch" (a CPython bug fixed in
later 3.11 releases), and schemathesis reports the operation as a runtime error. The
description is cosmetic (it only names a strategy in reports), so a parse that fails this way
falls back to hypothesis's own "unknown body" description instead of failing the operation.
"""

import sys

import hypothesis.internal.lambda_sources as lambda_sources

_describe = lambda_sources._lambda_description


def _robust_description(f, *args, **kwargs):
    try:
        return _describe(f, *args, **kwargs)
    except SystemError:
        return "lambda: <unknown>"


lambda_sources._lambda_description = _robust_description

from schemathesis.cli import schemathesis  # noqa: E402

sys.exit(schemathesis())
