"""The cross-validation cases: parameter set x C-rate x direction, and the meshes."""

RATES = (0.5, 1.0, 3.0)
DIRECTIONS = ("discharge", "charge")
SETS = ("xu2019", "xu2019_blend", "chayambuka2022_nvpf")

# Cells in the working electrode (x_p), separator (x_s) and shells per particle (r_p):
# the same numbers for PyBaMM's var_pts and strata's numerics.
BASE_MESH = {"x_p": 30, "x_s": 10, "r_p": 30}
FINE_MESH = {"x_p": 60, "x_s": 20, "r_p": 60}
# NVPF (R = 0.59 um, D_s down to 2e-17 m2/s, two plateaus) needs many more shells:
# refining x changes nothing there, refining r from 30 to 120 moves PyBaMM by 6-20 mV
# RMS; 128 is strata's largest particle_shells.
MESHES = {
    "xu2019": (BASE_MESH, FINE_MESH),
    "xu2019_blend": (BASE_MESH, FINE_MESH),
    "chayambuka2022_nvpf": ({"x_p": 30, "x_s": 10, "r_p": 64},
                            {"x_p": 30, "x_s": 10, "r_p": 128}),
}
# The sets whose cases the `peer` ctest asserts (chayambuka2022_nvpf is reported, not
# asserted: docs/validation.md says why).
CHECKED_SETS = ("xu2019", "xu2019_blend")

# Acceptance (issue 8): RMS potential difference and capacity difference at cut-off.
RMS_LIMIT_MV = {0.5: 5.0, 1.0: 5.0, 3.0: 10.0}
CAPACITY_LIMIT_PCT = {0.5: 1.0, 1.0: 1.0, 3.0: 2.0}


def case(set_name, c_rate, direction):
    rate = f"{c_rate:g}".replace(".", "p")
    return {"name": f"{set_name}_{rate}C_{direction}", "set": set_name,
            "c_rate": c_rate, "direction": direction}


def all_cases(sets=SETS):
    return [case(s, r, d) for s in sets for r in RATES for d in DIRECTIONS]
