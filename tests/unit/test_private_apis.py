"""The one adapter of other packages' private internals (ward/private_apis.py) fails loudly on an
upgrade: each patched package must be the version its patch was verified against, and each private
name it uses must still be there, with the shape it is used with."""

from __future__ import annotations

import functools
import importlib
import inspect
import subprocess
import sys
from importlib.metadata import version

import pytest

from ward.private_apis import PATCHES, Patch, PrivateUse

_ADVICE = "re-check it in ward/private_apis.py (and docs/architecture.md, 'Private APIs: one adapter')"


def _resolve(target: str):
    module_name, _, path = target.partition(":")
    found = importlib.import_module(module_name)
    for name in path.split("."):
        found = inspect.getattr_static(found, name) if inspect.isclass(found) else getattr(found, name)
    return found


def _callable_of(found):
    """The function behind a descriptor (classmethod, property, cached_property) or a function."""
    for attribute in ("__func__", "fget", "func"):
        if hasattr(found, attribute) and not inspect.isfunction(found):
            return getattr(found, attribute)
    return found


def _uses() -> list[tuple[Patch, PrivateUse]]:
    return [(patch, use) for patch in PATCHES for use in patch.uses]


@pytest.mark.parametrize(
    ("patch", "package", "verified"),
    [(patch, package, v) for patch in PATCHES for package, v in patch.verified.items()],
    ids=[f"{package}-{patch.name.split(' (')[0]}" for patch in PATCHES for package in patch.verified],
)
def test_each_patched_package_is_the_version_its_patch_was_verified_against(patch, package, verified):
    installed = version(package)
    assert installed == verified, (
        f"{package} is {installed}, but the patch {patch.name!r} was verified against {verified}: "
        f"{_ADVICE}, then update its `verified` versions"
    )


@pytest.mark.parametrize(("patch", "use"), _uses(), ids=[use.target for _, use in _uses()])
def test_each_private_name_used_is_still_there_with_its_shape(patch, use):
    where = f"{use.target} (patch {patch.name!r})"
    try:
        found = _resolve(use.target)
    except (ImportError, AttributeError) as error:
        pytest.fail(f"{where} is gone ({error}): {_ADVICE}")
    function = _callable_of(found)
    if use.parameters is not None:
        bound = functools.partial(function, None) if isinstance(found, classmethod) else function
        parameters = tuple(inspect.signature(bound).parameters)
        assert parameters == use.parameters, f"{where} takes {parameters}, not {use.parameters}: {_ADVICE}"
    if use.mentions:
        source = inspect.getsource(inspect.unwrap(function))
        missing = [text for text in use.mentions if text not in source]
        assert not missing, f"{where} no longer contains {missing}: {_ADVICE}"


def test_importing_the_adapter_imports_none_of_the_patched_packages():
    """The GX worker process imports it (through ward.quality.gx_validation): no Dagster there."""
    code = (
        "import sys, ward.private_apis; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'dagster', 'dagster_dbt', 'dbt', 'great_expectations', 'sqlalchemy'}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout


def test_the_ward_dbt_resource_runs_dbt_here_without_a_version_subprocess_or_an_adapter(monkeypatch):
    from dagster_dbt.core import resource

    from orchestration.resources import dbt_resource
    from ward.private_apis import InProcessDbt

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"dagster-dbt started {args}")

    monkeypatch.setattr(resource, "check_output", no_subprocess)  # its `dbt --version`
    invocation = dbt_resource().cli(["debug", "--config-dir"], raise_on_error=True).wait()
    assert invocation.is_successful()
    assert isinstance(invocation.process, InProcessDbt)
    assert invocation.adapter is None
