#include "host/run_codec.hpp"

#include <cstring>
#include <type_traits>

#include <fmt/format.h>

namespace strata {

namespace {

class Writer {
 public:
  template <class T>
  void pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const char* p = reinterpret_cast<const char*>(&v);
    out_.append(p, sizeof(T));
  }
  void str(const std::string& s) {
    pod<uint64_t>(s.size());
    out_.append(s);
  }
  template <class T>
  void pods(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    pod<uint64_t>(v.size());
    out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void strs(const std::vector<std::string>& v) {
    pod<uint64_t>(v.size());
    for (const auto& s : v) str(s);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(const std::string& in) : in_(in) {}
  template <class T>
  T pod() {
    T v;
    need(sizeof(T));
    std::memcpy(&v, in_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  std::string str() {
    const uint64_t n = pod<uint64_t>();
    need(n);
    std::string s = in_.substr(at_, n);
    at_ += n;
    return s;
  }
  template <class T>
  std::vector<T> pods() {
    const uint64_t n = pod<uint64_t>();
    need(n * sizeof(T));
    std::vector<T> v(n);
    if (n) std::memcpy(v.data(), in_.data() + at_, n * sizeof(T));
    at_ += n * sizeof(T);
    return v;
  }
  std::vector<std::string> strs() {
    const uint64_t n = pod<uint64_t>();
    std::vector<std::string> v;
    for (uint64_t k = 0; k < n; ++k) v.push_back(str());
    return v;
  }

 private:
  void need(uint64_t n) const {
    if (n > in_.size() - at_)
      throw CodecError("batch message truncated: needs " + std::to_string(n) + " more bytes at byte " +
                       std::to_string(at_) + " of " + std::to_string(in_.size()));
  }
  const std::string& in_;
  size_t at_ = 0;
};

void put_step(Writer& w, const StepResult& s) {
  for (const StepMetric& m : kStepMetrics) w.pod(s.*m.member);
  w.pod<int64_t>(s.time_steps);
  w.pod<int64_t>(s.newton_iterations);
  w.str(s.end_reason);
  w.pod<uint64_t>(s.material_charge_mAh_g.size());
  for (const auto& [name, v] : s.material_charge_mAh_g) {
    w.str(name);
    w.pod(v);
  }
  w.pods(s.layer_charge_mAh_g);
}

StepResult get_step(Reader& r) {
  StepResult s;
  for (const StepMetric& m : kStepMetrics) s.*m.member = r.pod<double>();
  s.time_steps = static_cast<long>(r.pod<int64_t>());
  s.newton_iterations = static_cast<long>(r.pod<int64_t>());
  s.end_reason = r.str();
  const uint64_t nm = r.pod<uint64_t>();
  for (uint64_t k = 0; k < nm; ++k) {
    std::string name = r.str();
    s.material_charge_mAh_g[name] = r.pod<double>();
  }
  s.layer_charge_mAh_g = r.pods<double>();
  return s;
}

void put_trajectory(Writer& w, const TrajectoryData& t) {
  w.pod<int64_t>(t.design_id);
  w.str(t.label);
  w.pod<int32_t>(t.status);
  w.pods(t.time_s);
  w.pods(t.current_A_m2);
  w.pods(t.potential_V);
  w.pods(t.capacity_mAh_g);
  w.pods(t.step);
  w.pods(t.material_soc);
  w.pod<uint64_t>(t.profiles.size());
  for (const TrajectoryData::Profile& p : t.profiles) {
    w.pod<int32_t>(p.request);
    w.pod<int32_t>(p.step);
    w.str(p.at);
    w.pod(p.requested);
    w.pod(p.time_s);
    for (const auto* v : {&p.x_m, &p.ce_mol_m3, &p.phie_V, &p.interfaces_m, &p.eta_V, &p.j_A_m2, &p.x_surf}) w.pods(*v);
  }
}

TrajectoryData get_trajectory(Reader& r) {
  TrajectoryData t;
  t.design_id = r.pod<int64_t>();
  t.label = r.str();
  t.status = r.pod<int32_t>();
  t.time_s = r.pods<double>();
  t.current_A_m2 = r.pods<double>();
  t.potential_V = r.pods<double>();
  t.capacity_mAh_g = r.pods<double>();
  t.step = r.pods<int32_t>();
  t.material_soc = r.pods<double>();
  const uint64_t np = r.pod<uint64_t>();
  for (uint64_t k = 0; k < np; ++k) {
    TrajectoryData::Profile p;
    p.request = r.pod<int32_t>();
    p.step = r.pod<int32_t>();
    p.at = r.str();
    p.requested = r.pod<double>();
    p.time_s = r.pod<double>();
    for (auto* v : {&p.x_m, &p.ce_mol_m3, &p.phie_V, &p.interfaces_m, &p.eta_V, &p.j_A_m2, &p.x_surf}) *v = r.pods<double>();
    t.profiles.push_back(std::move(p));
  }
  return t;
}

}  // namespace

std::string encode_request(const RunRequest& q) {
  Writer w;
  w.pod<uint64_t>(q.specs.size());
  for (const VariantSpec& s : q.specs) {
    w.str(s.label);
    w.pod<uint64_t>(s.overrides.size());
    for (const auto& [path, v] : s.overrides) {
      w.str(path);
      w.pod(v);
    }
    w.pod<uint64_t>(s.material_overrides.size());
    for (const auto& [path, name] : s.material_overrides) {
      w.str(path);
      w.str(name);
    }
    w.pods(s.layer_order);
  }
  w.pods(q.ids);
  w.pod<int32_t>(q.record);
  w.pod(q.trajectory_spec);
  w.pod<int32_t>(q.name_trajectories);
  w.pod<int32_t>(q.cancellable);
  return w.take();
}

RunRequest decode_request(const std::string& bytes) {
  Reader r(bytes);
  RunRequest q;
  const uint64_t n = r.pod<uint64_t>();
  for (uint64_t k = 0; k < n; ++k) {
    VariantSpec s;
    s.label = r.str();
    const uint64_t no = r.pod<uint64_t>();
    for (uint64_t j = 0; j < no; ++j) {
      std::string path = r.str();
      s.overrides[path] = r.pod<double>();
    }
    const uint64_t nmo = r.pod<uint64_t>();
    for (uint64_t j = 0; j < nmo; ++j) {
      std::string path = r.str();
      s.material_overrides[path] = r.str();
    }
    s.layer_order = r.pods<int>();
    q.specs.push_back(std::move(s));
  }
  q.ids = r.pods<int64_t>();
  q.record = r.pod<int32_t>() != 0;
  q.trajectory_spec = r.pod<TrajectorySpec>();
  q.name_trajectories = r.pod<int32_t>() != 0;
  q.cancellable = r.pod<int32_t>() != 0;
  return q;
}

std::string encode_outcome(const SliceOutcome& s) {
  Writer w;
  const RunOutcome& o = s.outcome;
  w.str(s.error);
  w.pod<uint64_t>(o.results.size());
  for (const VariantResult& v : o.results) {
    w.pod<int32_t>(v.id);
    w.str(v.label);
    w.pod<int32_t>(v.status);
    w.str(v.reason);
    w.pod(v.active_mass_mg_cm2);
    w.pods(v.layer_thickness_m);
    w.pods(v.layer_porosity);
    w.pod<uint64_t>(v.steps.size());
    for (const StepResult& st : v.steps) put_step(w, st);
  }
  w.pods(o.ran);
  w.pod<uint64_t>(o.trajectories.size());
  for (const TrajectoryData& t : o.trajectories) put_trajectory(w, t);
  w.pod<int64_t>(o.totals.time_steps);
  w.pod<int64_t>(o.totals.newton_iterations);
  w.pod<int32_t>(o.totals.ok);
  w.pod<int32_t>(o.totals.failed);
  w.pod(o.wall_s);
  return w.take();
}

std::string encode_outcome_within(const SliceOutcome& s, int rank, size_t max_bytes) {
  std::string bytes = encode_outcome(s);
  if (bytes.size() <= max_bytes) return bytes;
  SliceOutcome too_big;
  too_big.error = fmt::format(
      "rank {}: the results of its {} designs take {} bytes, more than one MPI message holds ({}); use a smaller "
      "[output] batch_size, or fewer trajectory samples (trajectory_max_points, trajectories)",
      rank, s.outcome.results.size(), bytes.size(), max_bytes);
  return encode_outcome(too_big);
}

SliceOutcome decode_outcome(const std::string& bytes) {
  Reader r(bytes);
  SliceOutcome s;
  RunOutcome& o = s.outcome;
  s.error = r.str();
  const uint64_t n = r.pod<uint64_t>();
  for (uint64_t k = 0; k < n; ++k) {
    VariantResult v;
    v.id = r.pod<int32_t>();
    v.label = r.str();
    v.status = r.pod<int32_t>();
    v.reason = r.str();
    v.active_mass_mg_cm2 = r.pod<double>();
    v.layer_thickness_m = r.pods<double>();
    v.layer_porosity = r.pods<double>();
    const uint64_t ns = r.pod<uint64_t>();
    for (uint64_t j = 0; j < ns; ++j) v.steps.push_back(get_step(r));
    o.results.push_back(std::move(v));
  }
  o.ran = r.pods<char>();
  const uint64_t nt = r.pod<uint64_t>();
  for (uint64_t k = 0; k < nt; ++k) o.trajectories.push_back(get_trajectory(r));
  o.totals.time_steps = static_cast<long>(r.pod<int64_t>());
  o.totals.newton_iterations = static_cast<long>(r.pod<int64_t>());
  o.totals.ok = r.pod<int32_t>();
  o.totals.failed = r.pod<int32_t>();
  o.wall_s = r.pod<double>();
  return s;
}

}  // namespace strata
