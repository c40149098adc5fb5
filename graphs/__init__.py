"""Random-graph wiring for neural architectures: RandWire DAGs, generators and mutations.

Pure networkx + numpy; never imports torch.
"""

from graphs.dag import (
    DEFAULT_OP,
    attach_io,
    check_size,
    compute_nodes,
    relabel_canonical,
    to_dag,
    validate_dag,
)
from graphs.errors import GenesisError, RunFailed
from graphs.families import (
    FAMILIES,
    EvenBelow,
    Family,
    IntBelow,
    ParamRange,
    Uniform,
    family_names,
    get_family,
    random_dag,
    register_family,
    unregister_family,
)
from graphs.features import DAG_FEATURES, dag_features
from graphs.generators import (
    ba_isolated_graph,
    barabasi_albert,
    erdos_renyi,
    from_networkx,
    watts_strogatz,
)
from graphs.limits import GENERATOR_MEMORY, GENERATOR_SECONDS, MAX_EDGES, MAX_NODES
from graphs.mutations import (
    MUTATIONS,
    add_edge,
    crossover,
    delete_node,
    insert_node,
    mutate,
    mutate_op,
    remove_edge,
    rewire_edge,
)
from graphs.registry import Registry
from graphs.stats import graph_stats

__all__ = [
    "DAG_FEATURES",
    "DEFAULT_OP",
    "FAMILIES",
    "GENERATOR_MEMORY",
    "GENERATOR_SECONDS",
    "MAX_EDGES",
    "MAX_NODES",
    "MUTATIONS",
    "EvenBelow",
    "Family",
    "GenesisError",
    "RunFailed",
    "Registry",
    "IntBelow",
    "ParamRange",
    "Uniform",
    "add_edge",
    "attach_io",
    "check_size",
    "ba_isolated_graph",
    "barabasi_albert",
    "compute_nodes",
    "crossover",
    "dag_features",
    "delete_node",
    "erdos_renyi",
    "family_names",
    "from_networkx",
    "get_family",
    "graph_stats",
    "insert_node",
    "mutate",
    "mutate_op",
    "random_dag",
    "register_family",
    "relabel_canonical",
    "remove_edge",
    "rewire_edge",
    "to_dag",
    "unregister_family",
    "validate_dag",
    "watts_strogatz",
]
