// Single-pass multi-tensor Adam for the XLA CPU backend (called via jax.ffi).
//
// One custom call updates every leaf of a parameter tree: for each element it
// reads g, m, v (and p) once and writes m, v and p (or the update u) once,
// i.e. 28 bytes per float32 parameter, the memory-traffic minimum. XLA's own
// fusions make three passes per leaf. The arithmetic is the default adamx
// path's, operation for operation and in the same dtype (scalars are computed
// in JAX and passed in), with multiply-adds fused where XLA fuses them in the
// moment EMAs and nowhere else (-ffp-contract=off). XLA may also contract
// p + (-lr)*r in some vector lanes, so parameters can differ from a jitted
// update-and-apply by one rounding of that add (see tests/test_fast_path.py).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <type_traits>
#include <vector>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// Scalars, in the compute dtype, in this order (see adamx/_fast/adam.py).
enum { kB1, kOneMinusB1, kB2, kOneMinusB2, kC1, kC2, kEpsRoot, kEps, kNegLr, kNumScalars };

inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Round to nearest even, as XLA's convert does; NaN stays a (quiet) NaN.
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

template <typename T> inline T load_bf16(const uint16_t* p, size_t i) { return static_cast<T>(bf16_to_f32(p[i])); }
template <typename T> inline void store_bf16(uint16_t* p, size_t i, T x) { p[i] = f32_to_bf16(static_cast<float>(x)); }

// T: parameter, gradient and compute dtype; M: moment storage (T or uint16_t=bf16).
// kStep: write p + u into `out` (aliased with p); else write u into `out`.
template <typename T, typename MM, typename MV, bool kStep>
void adam_range(const T* s, const T* __restrict p, const T* __restrict g,
                const MM* __restrict m_in, const MV* __restrict v_in, T* __restrict out,
                MM* __restrict m_out, MV* __restrict v_out, size_t lo, size_t hi) {
  const T b1 = s[kB1], omb1 = s[kOneMinusB1], b2 = s[kB2], omb2 = s[kOneMinusB2];
  const T c1 = s[kC1], c2 = s[kC2], eps_root = s[kEpsRoot], eps = s[kEps], neg_lr = s[kNegLr];
  for (size_t i = lo; i < hi; ++i) {
    T gi = g[i];
    T mi, vi;
    if constexpr (std::is_same_v<MM, T>) mi = m_in[i]; else mi = load_bf16<T>(m_in, i);
    if constexpr (std::is_same_v<MV, T>) vi = v_in[i]; else vi = load_bf16<T>(v_in, i);
    // XLA's CPU backend contracts `b*m + (1-b)*g` to fma((1-b), g, b*m); doing
    // the same keeps the moments bit-identical to adamx.adam's.
    T m = std::fma(omb1, gi, b1 * mi);
    T v = std::fma(omb2, gi * gi, b2 * vi);
    T mhat = m / c1;
    T vhat = v / c2;
    T den = std::sqrt(std::max(vhat, T(0)) + eps_root) + eps;
    T r = den == T(0) ? T(0) : mhat / (den == T(0) ? T(1) : den);
    T u = neg_lr * r;
    if constexpr (kStep) out[i] = p[i] + u; else out[i] = u;
    if constexpr (std::is_same_v<MM, T>) m_out[i] = m; else store_bf16<T>(m_out, i, m);
    if constexpr (std::is_same_v<MV, T>) v_out[i] = v; else store_bf16<T>(v_out, i, v);
  }
}

struct Leaf {
  const void* p;
  const void* g;
  const void* m_in;
  const void* v_in;
  void* out;
  void* m_out;
  void* v_out;
  size_t n;
  ffi::DataType t, mt, vt;
};

template <typename T, bool kStep>
void run_leaf(const T* s, const Leaf& L, size_t lo, size_t hi) {
  auto p = static_cast<const T*>(L.p);
  auto g = static_cast<const T*>(L.g);
  auto out = static_cast<T*>(L.out);
  bool m16 = L.mt == ffi::DataType::BF16, v16 = L.vt == ffi::DataType::BF16;
  using B = uint16_t;
  if (!m16 && !v16)
    adam_range<T, T, T, kStep>(s, p, g, (const T*)L.m_in, (const T*)L.v_in, out, (T*)L.m_out, (T*)L.v_out, lo, hi);
  else if (m16 && v16)
    adam_range<T, B, B, kStep>(s, p, g, (const B*)L.m_in, (const B*)L.v_in, out, (B*)L.m_out, (B*)L.v_out, lo, hi);
  else if (m16)
    adam_range<T, B, T, kStep>(s, p, g, (const B*)L.m_in, (const T*)L.v_in, out, (B*)L.m_out, (T*)L.v_out, lo, hi);
  else
    adam_range<T, T, B, kStep>(s, p, g, (const T*)L.m_in, (const B*)L.v_in, out, (T*)L.m_out, (B*)L.v_out, lo, hi);
}

int num_threads(size_t total) {
  static const int configured = [] {
    const char* env = std::getenv("ADAMX_NUM_THREADS");
    int n = env ? std::atoi(env) : static_cast<int>(std::thread::hardware_concurrency());
    return std::max(1, n);
  }();
  // Below ~64k elements per thread, starting a thread costs more than it saves.
  size_t useful = std::max<size_t>(1, total / (size_t{1} << 16));
  return static_cast<int>(std::min<size_t>(configured, useful));
}

// Splits the concatenation of all leaves into equal element ranges, one per
// thread, so many small leaves and one large leaf are balanced alike.
template <typename T, bool kStep>
void run_all(const T* s, const std::vector<Leaf>& leaves) {
  size_t total = 0;
  for (const Leaf& L : leaves) total += L.n;
  int nt = num_threads(total);
  auto work = [&](size_t begin, size_t end) {
    size_t offset = 0;
    for (const Leaf& L : leaves) {
      size_t lo = std::max(begin, offset), hi = std::min(end, offset + L.n);
      if (lo < hi) run_leaf<T, kStep>(s, L, lo - offset, hi - offset);
      offset += L.n;
      if (offset >= end) break;
    }
  };
  if (nt == 1) { work(0, total); return; }
  std::vector<std::thread> pool;
  for (int t = 1; t < nt; ++t) pool.emplace_back(work, total * t / nt, total * (t + 1) / nt);
  work(0, total / nt);
  for (auto& th : pool) th.join();
}

// Operands: scalars, then N params, N grads, N mu, N nu.
// Results: N outputs (new params if step, else updates), N mu, N nu.
ffi::Error AdamImpl(ffi::AnyBuffer scalars, ffi::RemainingArgs args, ffi::RemainingRets rets,
                    bool step) {
  if (args.size() % 4 != 0 || rets.size() * 4 != args.size() * 3)
    return ffi::Error::InvalidArgument("adamx fused adam: expected 4N operands and 3N results");
  size_t n = args.size() / 4;
  ffi::DataType t = scalars.element_type();
  if (t != ffi::DataType::F32 && t != ffi::DataType::F64)
    return ffi::Error::InvalidArgument("adamx fused adam: compute dtype must be float32 or float64");
  if (scalars.element_count() != kNumScalars)
    return ffi::Error::InvalidArgument("adamx fused adam: wrong number of scalars");
  std::vector<Leaf> leaves(n);
  for (size_t i = 0; i < n; ++i) {
    auto p = args.get<ffi::AnyBuffer>(i), g = args.get<ffi::AnyBuffer>(n + i);
    auto m = args.get<ffi::AnyBuffer>(2 * n + i), v = args.get<ffi::AnyBuffer>(3 * n + i);
    auto o = rets.get<ffi::AnyBuffer>(i), mo = rets.get<ffi::AnyBuffer>(n + i);
    auto vo = rets.get<ffi::AnyBuffer>(2 * n + i);
    if (!p || !g || !m || !v || !o || !mo || !vo)
      return ffi::Error::InvalidArgument("adamx fused adam: cannot decode a buffer");
    size_t count = p->element_count();
    if (p->element_type() != t || g->element_type() != t || g->element_count() != count ||
        m->element_count() != count || v->element_count() != count)
      return ffi::Error::InvalidArgument("adamx fused adam: leaf dtype or size mismatch");
    for (auto dt : {m->element_type(), v->element_type()})
      if (dt != t && dt != ffi::DataType::BF16)
        return ffi::Error::InvalidArgument("adamx fused adam: moments must be the compute dtype or bfloat16");
    leaves[i] = Leaf{p->untyped_data(), g->untyped_data(), m->untyped_data(), v->untyped_data(),
                     (*o)->untyped_data(), (*mo)->untyped_data(), (*vo)->untyped_data(), count,
                     t, m->element_type(), v->element_type()};
  }
  if (t == ffi::DataType::F32) {
    auto s = static_cast<const float*>(scalars.untyped_data());
    step ? run_all<float, true>(s, leaves) : run_all<float, false>(s, leaves);
  } else {
    auto s = static_cast<const double*>(scalars.untyped_data());
    step ? run_all<double, true>(s, leaves) : run_all<double, false>(s, leaves);
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(AdamxFusedAdam, AdamImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()
                                  .RemainingArgs()
                                  .RemainingRets()
                                  .Attr<bool>("step"));

// The bandwidth reference the benchmarks divide by: the same access pattern
// (read 4 float32 arrays, write 3 of them in place) with the least arithmetic.
extern "C" void adamx_bandwidth_reference(float* p, const float* g, float* m, float* v,
                                          size_t n, int threads) {
  auto work = [=](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; ++i) {
      float mi = 0.9f * m[i] + g[i];
      float vi = 0.9f * v[i] + g[i];
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] + mi * vi;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, n * t / threads, n * (t + 1) / threads);
  work(0, n / threads);
  for (auto& th : pool) th.join();
}
