"""PyBaMM side: the half-cell DFN of a case, built once per (set, mesh), solved by IDAKLU.

The applied current, the initial particle concentrations and the cut-off are input
parameters, so one built model serves every rate and direction of a set (and the
benchmark's batch of variants).
"""
import numpy as np
import pybamm

import convert_pybamm as conv
import param_sets


def model_options(prefixes):
    opts = {"working electrode": "positive"}
    if len(prefixes) == 2:
        opts["particle phases"] = ("1", "2")
    return opts


def var_pts(mesh, prefixes):
    pts = {"x_n": mesh["x_s"], "x_s": mesh["x_s"], "x_p": mesh["x_p"],
           "r_n": mesh["r_p"], "r_p": mesh["r_p"]}
    if len(prefixes) == 2:
        pts.update({"r_p_prim": mesh["r_p"], "r_p_sec": mesh["r_p"]})
    return pts


class Built:
    """A discretised model of one set and mesh, ready for `solve`."""

    def __init__(self, set_name, mesh, rtol=1e-6, atol=1e-8, extra_inputs=(), overrides=None,
                 num_threads=1, output_variables=None):
        pv, prefixes = param_sets.BUILDERS[set_name]()
        if overrides:
            pv.update(overrides, check_already_exists=False)
        self.pv, self.prefixes = pv, prefixes
        self.area_m2 = conv.value(pv, "Electrode height [m]") * conv.value(pv, "Electrode width [m]")
        self.q_nom_Ah = conv.value(pv, "Nominal cell capacity [A.h]")
        inputs = {"Current function [A]": "[input]", "Lower voltage cut-off [V]": "[input]",
                  "Upper voltage cut-off [V]": "[input]"}
        for p in prefixes:
            inputs[p + "Initial concentration in positive electrode [mol.m-3]"] = "[input]"
        for name in extra_inputs:
            inputs[name] = "[input]"
        pv = pybamm.ParameterValues(dict(pv.items()))
        pv.update(inputs, check_already_exists=False)
        model = pybamm.lithium_ion.DFN(model_options(prefixes))
        geometry = model.default_geometry
        pv.process_model(model)
        pv.process_geometry(geometry)
        mesh_obj = pybamm.Mesh(geometry, model.default_submesh_types, var_pts(mesh, prefixes))
        disc = pybamm.Discretisation(mesh_obj, model.default_spatial_methods)
        disc.process_model(model)
        self.model = model
        opts = {"num_threads": num_threads}
        self.solver = pybamm.IDAKLUSolver(rtol=rtol, atol=atol, options=opts,
                                          output_variables=output_variables)
        self.base = param_sets.BUILDERS[set_name]()[0]
        self.set_name = set_name

    def inputs(self, c_rate, direction, overrides=None):
        sign = -1.0 if direction == "charge" else 1.0   # PyBaMM: discharge > 0
        x0 = conv.initial_stoichiometry(self.base, self.prefixes, direction)
        d = {"Current function [A]": sign * c_rate * self.q_nom_Ah,
             "Lower voltage cut-off [V]": conv.value(self.base, "Lower voltage cut-off [V]"),
             "Upper voltage cut-off [V]": conv.value(self.base, "Upper voltage cut-off [V]")}
        for p, x in zip(self.prefixes, x0):
            c_max = conv.value(self.base, p + "Maximum concentration in positive electrode [mol.m-3]")
            d[p + "Initial concentration in positive electrode [mol.m-3]"] = x * c_max
        if overrides:
            d.update(overrides)
        return d

    def t_end_s(self, c_rate):
        return 2.5 * 3600.0 / c_rate

    def solve(self, c_rate, direction, n_points=600, inputs=None):
        t_end = self.t_end_s(c_rate)
        # uniform in time plus geometric near the start, where the potential moves fast
        t_interp = np.unique(np.concatenate([np.linspace(0.0, t_end, n_points),
                                             np.geomspace(1e-3, 0.05 * t_end, 200)]))
        inp = inputs if inputs is not None else self.inputs(c_rate, direction)
        return self.solver.solve(self.model, [0.0, t_end], t_interp=t_interp, inputs=inp)

    def curve(self, sol):
        """Capacity passed (mAh/cm2, >= 0) and the voltage (V) of a solution."""
        q_Ah = np.abs(sol["Discharge capacity [A.h]"].entries)
        v = sol["Voltage [V]"].entries
        return q_Ah / self.area_m2 * 0.1, v
