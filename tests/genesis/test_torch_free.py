"""The core of genesis imports without torch; building, training and exporting import it."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_core_never_imports_torch():
    done = run(
        "import sys\n"
        "import genesis, genesis.genome, genesis.fingerprint, genesis.complexity\n"
        "import genesis.presets, genesis.ops\n"
        "from genesis import build_architecture, architecture_hash, op_names, get_op\n"
        "from genesis.complexity import count_complexity\n"
        "arch = build_architecture('fashion-mnist', seed=0)\n"
        "cx = count_complexity(arch)\n"
        "costs = [get_op(op).complexity(8, 16, 2, 9, 9).macs for op in op_names()]\n"
        "print(architecture_hash(arch), cx.macs, cx.params, len(costs))\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split()) == 4


@pytest.mark.parametrize("module", ["genesis.compiler", "genesis.train", "genesis.layers"])
def test_building_imports_torch(module):
    done = run(f"import sys, {module}; assert 'torch' in sys.modules")
    assert done.returncode == 0, done.stderr


def test_op_factories_import_torch_only_when_called():
    done = run(
        "import sys\n"
        "from genesis import get_op, op_names\n"
        "assert 'torch' not in sys.modules\n"
        "module = get_op('sep_conv_3x3').factory(4, 8, 2)\n"
        "assert 'torch' in sys.modules and type(module).__name__ == 'SepConv'\n"
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("module", ["evolve", "evolve.config", "evolve.space", "visualize.render"])
def test_reading_configs_and_rendering_never_import_torch(module):
    done = run(f"import sys, {module}; assert 'torch' not in sys.modules, 'torch imported'")
    assert done.returncode == 0, done.stderr


def test_evolve_names_load_on_first_use():
    done = run(
        "import sys, evolve\n"
        "assert 'evolve.search' not in sys.modules\n"
        "from evolve import Search, SpaceConfig, make_executor\n"
        "assert Search.__module__ == 'evolve.search' and 'evolve.search' in sys.modules\n"
        "assert set(evolve.__all__) <= set(dir(evolve))\n"
    )
    assert done.returncode == 0, done.stderr
