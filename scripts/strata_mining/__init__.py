"""Read and plot strata HDF5 results files (docs/hdf5-schema.md, docs/mining.md)."""

from .analysis import layer_interfaces, parse_c_rate, pareto_front, rate_table
from .io import (MiningError, load_population, load_profiles, load_trajectory, material_names,
                 open_results, read_meta, step_texts, trajectory_ids, writer)

__all__ = ["MiningError", "open_results", "writer", "read_meta", "load_population", "load_trajectory",
           "load_profiles", "step_texts", "material_names", "trajectory_ids", "parse_c_rate",
           "pareto_front", "rate_table", "layer_interfaces"]
