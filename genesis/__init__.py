"""genesis: generate neural-network architectures from random graphs, and measure them.

The architecture genome, the op registry, presets and the ``genesis`` CLI live here; the random
graphs themselves come from :mod:`graphs`. ``import genesis`` never imports torch: the op
registry's names and cost functions, the genome, its hash and its complexity are pure Python;
building, training and exporting a network (:mod:`genesis.compiler`, :mod:`genesis.train`,
:mod:`genesis.export`, :mod:`genesis.data`) import torch when they are imported.
"""

from genesis.description import describe
from genesis.fingerprint import architecture_hash, stage_hash
from genesis.genome import (
    SCHEMA,
    SCHEMA_VERSION,
    Architecture,
    Head,
    Stage,
    StemLayer,
    TrainConfig,
    load_architecture,
    save_architecture,
)
from genesis.ops import (
    OPS,
    Complexity,
    OpSpec,
    default_ops,
    get_op,
    op_colors,
    op_names,
    register_op,
    unregister_op,
)
from genesis.preprocess import Preprocess
from genesis.presets import (
    DEFAULT_PRESET,
    PRESETS,
    Preset,
    build_architecture,
    get_preset,
    preset_names,
    register_preset,
)
from graphs import GenesisError

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_PRESET",
    "OPS",
    "PRESETS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "Architecture",
    "Complexity",
    "GenesisError",
    "Head",
    "OpSpec",
    "Preprocess",
    "Run",
    "Preset",
    "Stage",
    "StemLayer",
    "TrainConfig",
    "architecture_hash",
    "load_run",
    "build_architecture",
    "default_ops",
    "describe",
    "get_op",
    "get_preset",
    "load_architecture",
    "op_colors",
    "op_names",
    "preset_names",
    "register_op",
    "register_preset",
    "save_architecture",
    "stage_hash",
    "unregister_op",
]


def __getattr__(name: str):
    """``load_run`` and ``Run`` (:mod:`genesis.rundata`), imported on first use."""
    if name in ("load_run", "Run"):
        from genesis import rundata

        return getattr(rundata, name)
    raise AttributeError(f"module 'genesis' has no attribute {name!r}")
