"""PyBaMM parameter sets of the cross-validation cases, as half cells.

Each builder returns a `pybamm.ParameterValues` for
`pybamm.lithium_ion.DFN({"working electrode": "positive", ...})` with a metal counter
electrode, plus the list of particle phases of the working electrode ("" for a
single phase, "Primary: " and "Secondary: " for a two-phase blend). Every change to
a published set is made here, in the open, and listed in `CHANGES` (docs/validation.md
repeats them).

- xu2019: PyBaMM's Xu2019 NMC532 / Li-metal half-cell set, unchanged. Chosen over
  Chen2020 NMC811 because it is a half-cell set: it carries the Li-metal exchange
  current, the separator and the cut-offs of a coin half cell; Chen2020 is a full
  cell and has no counter-electrode kinetics.
- xu2019_blend: the same electrode with PyBaMM's two particle phases ("1", "2"):
  the NMC532 volume fraction split 60/40 between the published 5.3 um particles and
  1.5 um particles (a bimodal electrode; the small size is our choice).
- chayambuka2022_nvpf: PyBaMM's Chayambuka2022 sodium-ion set, its NVPF positive
  electrode against a planar Na-metal counter (see CHANGES for what a half cell
  needs that the full-cell set does not give, and the D_s slip).
"""
import pybamm

CHANGES = {
    "xu2019": [],
    "xu2019_blend": [
        "two phases: Primary = published NMC532 (R = 5.3 um, 60 % of the active volume "
        "fraction 0.518), Secondary = the same NMC532 with R = 1.5 um (40 %)",
    ],
    "chayambuka2022_nvpf": [
        "positive particle diffusivity: the set interpolates D_s(c) at sto times the "
        "*electrolyte* initial concentration (1000 mol/m3); the data are against the "
        "particle concentration (131..15197 mol/m3), so we interpolate at sto * c_max "
        "(15320 mol/m3), as the hard-carbon function of the same set does",
        "counter electrode: a planar Na metal replaces the hard-carbon electrode; its "
        "exchange current density is not in the set: constant 10 A/m2 (strata's default "
        "guess), conductivity 2.1e7 S/m (Na metal), partial molar volume 2.37e-5 m3/mol",
        "positive exchange current: the set's rate constant k_p(c_s) is a table (2.3e-10 "
        "to 1.9e-12 m/s, a factor 120 over the window); strata's i0 law has no such "
        "factor, so both tools use the constant k that the converter picks (geometric "
        "mean of j0 over x in [0.02, 0.98] at c_e0); chayambuka2022_nvpf_published keeps "
        "the table for the term study",
    ],
}

BLEND_SPLIT = (0.6, 0.4)
BLEND_SECONDARY_RADIUS_M = 1.5e-6


def xu2019():
    return pybamm.ParameterValues("Xu2019"), [""]


def _phase_keys(pv):
    """The keys of a one-phase set that PyBaMM reads per phase of the positive electrode."""
    per_phase = ("Positive particle", "Positive electrode OCP", "Positive electrode "
                 "active material", "Positive electrode exchange-current",
                 "Maximum concentration in positive", "Initial concentration in positive",
                 "Positive electrode charge transfer", "Positive electrode double-layer",
                 "Positive electrode density", "Positive electrode OCP entropic")
    return [k for k in pv.keys() if k.startswith(per_phase) or
            any(k.startswith(p) for p in per_phase)]


def xu2019_blend():
    pv = pybamm.ParameterValues("Xu2019")
    eps = pv["Positive electrode active material volume fraction"]
    new = {}
    for k in _phase_keys(pv):
        for prefix in ("Primary: ", "Secondary: "):
            new[prefix + k] = pv[k]
    pv.update(new, check_already_exists=False)
    pv.update({
        "Primary: Positive electrode active material volume fraction": BLEND_SPLIT[0] * eps,
        "Secondary: Positive electrode active material volume fraction": BLEND_SPLIT[1] * eps,
        "Secondary: Positive particle radius [m]": BLEND_SECONDARY_RADIUS_M,
    })
    return pv, ["Primary: ", "Secondary: "]


def _nvpf_diffusivity_fixed(sto, T):
    """Chayambuka2022 NVPF D_s(c), interpolated at the particle concentration sto * c_max."""
    from pybamm.input.parameters.sodium_ion.Chayambuka2022 import D_p_data
    name, (x, y) = D_p_data
    c_max = pybamm.Parameter("Maximum concentration in positive electrode [mol.m-3]")
    return pybamm.Interpolant(x, y, sto * c_max, name)


def chayambuka2022_nvpf_published():
    """The NVPF half cell with the set's own exchange current, k_p(c_s) interpolated."""
    pv = pybamm.ParameterValues("Chayambuka2022")
    pv.update({
        "Positive particle diffusivity [m2.s-1]": _nvpf_diffusivity_fixed,
        "Exchange-current density for lithium metal electrode [A.m-2]": 10.0,
        "Negative electrode conductivity [S.m-1]": 2.1e7,
        "Negative electrode OCP [V]": 0.0,
        "Lithium metal partial molar volume [m3.mol-1]": 2.37e-5,
        "Negative electrode charge transfer coefficient": 0.5,
        "Negative electrode OCP entropic change [V.K-1]": 0.0,
    }, check_already_exists=False)
    return pv, [""]


def chayambuka2022_nvpf():
    """The NVPF half cell with the exchange current strata can represent: the set's
    j0 = F k_p(c_s) (c_e/c_e0)^0.5 c_s^0.5 (c_max - c_s)^0.5 / 2 with the rate constant
    k_p(c_s) (a table, 2.3e-10 .. 1.9e-12 m/s) replaced by the constant that
    convert_pybamm.i0_mapping picks (geometric mean over the stoichiometry range)."""
    import convert_pybamm as conv
    pv, prefixes = chayambuka2022_nvpf_published()
    T = conv.temperature(pv)
    i0_ref, c_e0, _ = conv.i0_mapping(pv, "", T)

    def j0_const_k(c_e, c_s_surf, c_s_max, T):
        return (i0_ref * (c_e / c_e0) ** 0.5 * c_s_surf ** 0.5 * (c_s_max - c_s_surf) ** 0.5
                / (0.5 * c_s_max))

    pv.update({"Positive electrode exchange-current density [A.m-2]": j0_const_k})
    return pv, prefixes


BUILDERS = {"xu2019": xu2019, "xu2019_blend": xu2019_blend,
            "chayambuka2022_nvpf": chayambuka2022_nvpf,
            "chayambuka2022_nvpf_published": chayambuka2022_nvpf_published}
