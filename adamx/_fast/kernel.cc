// Multi-tensor optimizer steps for the XLA CPU backend, called via jax.ffi.
//
// One custom call updates leaves of a parameter tree whose optimizer state
// lives in one flat buffer per statistic: leaf i owns the slice
// [offsets[i], offsets[i] + size_i) of each state buffer. For each
// element the call reads p, g and the state once and writes the new parameter
// (or the update) and the state once: 28 bytes per float32 parameter for
// Adam, the memory-traffic minimum. Methods: Adam (and AdamW), SGD with
// momentum, Lion and AdaGrad.
//
// The arithmetic is the composed adamx method's, operation for operation and
// in the same dtype (scalars are computed in JAX and passed in), with
// multiply-adds fused exactly where XLA's CPU backend fuses them in the
// state updates (built with -ffp-contract=off, so nowhere else). The state is
// therefore bit-identical to the composed method's; the parameter may differ
// by one rounding of p + u, which XLA contracts in some vector lanes only.
//
// Built once, for a baseline instruction set, with a second copy of the hot
// loop for AVX2 and FMA chosen at load time on x86-64 (see run_leaf): one
// binary serves every machine.
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

#if defined(__x86_64__) && defined(__GNUC__)
#define ADAMX_X86 1
#endif

namespace {

// Methods and their scalars, in the order adamx/_fast/kernels.py stacks them.
enum Method : int64_t { kAdam = 0, kMomentum = 1, kLion = 2, kAdagrad = 3 };
enum AdamScalar {
  kB1, kOneMinusB1, kB2, kOneMinusB2, kInvC1, kInvC2, kEpsRoot, kEps, kAdamDecay, kAdamNegLr, kAdamCount
};
enum MomentumScalar { kMu, kMomentumNegLr, kMomentumCount };
enum LionScalar { kW, kOneMinusW, kBeta, kOneMinusBeta, kLionDecay, kLionNegLr, kLionCount };
enum AdagradScalar { kAdagradEps, kAdagradNegLr, kAdagradCount };

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
  uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  uint32_t quiet_nan = (bits >> 16) | 0x40u;
  return static_cast<uint16_t>((bits & 0x7fffffffu) > 0x7f800000u ? quiet_nan : rounded);
}

// S is a state buffer's storage: T itself, or uint16_t holding bfloat16.
template <typename T, typename S> inline T load(const S* x, size_t i) {
  if constexpr (std::is_same_v<S, T>) return x[i]; else return static_cast<T>(bf16_to_f32(x[i]));
}
template <typename T, typename S> inline void store(S* x, size_t i, T value) {
  if constexpr (std::is_same_v<S, T>) x[i] = value; else x[i] = f32_to_bf16(static_cast<float>(value));
}

constexpr size_t scalar_count(Method m) {
  if (m == kAdam) return kAdamCount;
  if (m == kAdagrad) return kAdagradCount;
  return m == kMomentum ? size_t{kMomentumCount} : size_t{kLionCount};
}

template <typename T> inline T sign(T x) {
  return x > T(0) ? T(1) : (x < T(0) ? T(-1) : x);  // 0 -> 0, NaN -> NaN, as jnp.sign
}

// One leaf's elements [lo, hi). s: the scalars; p: parameters (read for decay;
// with kStep updated in place, else the update goes to out); a, b: the leaf's
// slices of the state buffers, updated in place. kFlag: weight decay (Adam,
// Lion), Nesterov (momentum) or eps inside the root (AdaGrad). Every pointer is distinct from the others
// (XLA aliases each result to its input), so the loop vectorizes with no
// run-time overlap checks; the scalars are read once, before it.
template <Method M, typename T, typename SA, typename SB, bool kStep, bool kFlag>
__attribute__((always_inline)) inline void step_range(
    const T* __restrict s, T* __restrict p, const T* __restrict g, SA* __restrict a,
    SB* __restrict b, T* __restrict out, size_t lo, size_t hi) {
  T k[kAdamCount];  // the largest scalar set
  for (int j = 0; j < kAdamCount; ++j) k[j] = j < static_cast<int>(scalar_count(M)) ? s[j] : T(0);
  for (size_t i = lo; i < hi; ++i) {
    T gi = g[i], u;
    if constexpr (M == kAdam) {
      // XLA contracts `b*m + (1-b)*g` to fma((1-b), g, b*m); so does this.
      T m = std::fma(k[kOneMinusB1], gi, k[kB1] * load<T>(a, i));
      T v = std::fma(k[kOneMinusB2], gi * gi, k[kB2] * load<T>(b, i));
      // XLA turns an array's division by a scalar into a multiplication by its
      // reciprocal (and contracts it with eps_root).
      T den = std::sqrt(std::max(std::fma(v, k[kInvC2], k[kEpsRoot]), T(0))) + k[kEps];
      // ratio's guard: 0 where the denominator is 0. Dividing unconditionally
      // (by 1 there) keeps the loop free of branches, so it vectorizes.
      T q = (m * k[kInvC1]) / (den == T(0) ? T(1) : den);
      T r = den == T(0) ? T(0) : q;
      if constexpr (kFlag) r = std::fma(k[kAdamDecay], p[i], r);
      u = k[kAdamNegLr] * r;
      store<T>(a, i, m);
      store<T>(b, i, v);
    } else if constexpr (M == kMomentum) {
      T t = std::fma(k[kMu], load<T>(a, i), gi);
      u = k[kMomentumNegLr] * (kFlag ? std::fma(k[kMu], t, gi) : t);
      store<T>(a, i, t);
    } else if constexpr (M == kAdagrad) {
      T sum = std::fma(gi, gi, load<T>(a, i));  // XLA contracts s + g*g
      T den = kFlag ? std::sqrt(std::max(sum + k[kAdagradEps], T(0)))
                    : std::sqrt(std::max(sum, T(0))) + k[kAdagradEps];
      T q = gi / (den == T(0) ? T(1) : den);
      u = k[kAdagradNegLr] * (den == T(0) ? T(0) : q);
      store<T>(a, i, sum);
    } else {
      T m = load<T>(a, i);
      T c = std::fma(k[kOneMinusW], gi, k[kW] * m);
      T r = sign(c);
      if constexpr (kFlag) r = std::fma(k[kLionDecay], p[i], r);
      u = k[kLionNegLr] * r;
      store<T>(a, i, std::fma(k[kOneMinusBeta], gi, k[kBeta] * m));
    }
    if constexpr (kStep) p[i] = p[i] + u; else out[i] = u;
  }
}

struct Leaf {
  void* p;  // the parameters' result buffer (aliased to their input) in a step
  const void* g;
  void* out;  // the updates, without a step
  size_t offset, n;  // slice of the state buffers
};

struct Call {
  Method method;
  bool step, flag;  // flag: see step_range
  const void* scalars;
  void *a, *b;  // the state buffers' results (aliased to their inputs)
  bool a16, b16;  // bfloat16 state
  std::vector<Leaf> leaves;
};

// The loop compiled twice on x86-64: for the baseline instruction set and for
// AVX2 with FMA (x86-64-v3), chosen when the library is loaded. (AVX-512 code
// measured slower on the machines tried.) std::fma is exact in both, so the
// numbers do not depend on the choice.
#ifdef ADAMX_X86
template <Method M, typename T, typename SA, typename SB, bool kStep, bool kFlag>
__attribute__((target("avx2,fma"))) void step_range_avx2(const T* s, T* p, const T* g, SA* a,
                                                         SB* b, T* out, size_t lo, size_t hi) {
  step_range<M, T, SA, SB, kStep, kFlag>(s, p, g, a, b, out, lo, hi);
}
const bool kAvx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif

template <Method M, typename T, typename SA, typename SB, bool kStep, bool kFlag>
void run_leaf(const Call& c, const Leaf& L, size_t lo, size_t hi) {
  auto s = static_cast<const T*>(c.scalars);
  auto p = static_cast<T*>(L.p);
  auto g = static_cast<const T*>(L.g);
  auto a = static_cast<SA*>(c.a) + L.offset;
  auto b = static_cast<SB*>(c.b) + L.offset;
  auto out = static_cast<T*>(L.out);
#ifdef ADAMX_X86
  if (kAvx2) return step_range_avx2<M, T, SA, SB, kStep, kFlag>(s, p, g, a, b, out, lo, hi);
#endif
  step_range<M, T, SA, SB, kStep, kFlag>(s, p, g, a, b, out, lo, hi);
}

using LeafFn = void (*)(const Call&, const Leaf&, size_t, size_t);

// Picks the instantiation for a call's method, dtype, state storage and mode.
template <typename T, typename SA, typename SB>
LeafFn pick(const Call& c) {
  auto mode = [&](auto method) -> LeafFn {
    constexpr Method M = decltype(method)::value;
    if (c.step) return c.flag ? run_leaf<M, T, SA, SB, true, true> : run_leaf<M, T, SA, SB, true, false>;
    return c.flag ? run_leaf<M, T, SA, SB, false, true> : run_leaf<M, T, SA, SB, false, false>;
  };
  switch (c.method) {
    case kAdam: return mode(std::integral_constant<Method, kAdam>{});
    case kMomentum: return mode(std::integral_constant<Method, kMomentum>{});
    case kAdagrad: return mode(std::integral_constant<Method, kAdagrad>{});
    default: return mode(std::integral_constant<Method, kLion>{});
  }
}

template <typename T>
LeafFn pick_storage(const Call& c) {
  using B = uint16_t;
  if (c.a16 && c.b16) return pick<T, B, B>(c);
  if (c.a16) return pick<T, B, T>(c);
  if (c.b16) return pick<T, T, B>(c);
  return pick<T, T, T>(c);
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
// thread, so that many small leaves and one large leaf are balanced alike.
void run_all(const Call& c, LeafFn fn) {
  size_t total = 0;
  for (const Leaf& L : c.leaves) total += L.n;
  int nt = num_threads(total);
  auto work = [&](size_t begin, size_t end) {
    size_t at = 0;
    for (const Leaf& L : c.leaves) {
      size_t lo = std::max(begin, at), hi = std::min(end, at + L.n);
      if (lo < hi) fn(c, L, lo - at, hi - at);
      at += L.n;
      if (at >= end) break;
    }
  };
  if (nt == 1) { work(0, total); return; }
  std::vector<std::thread> pool;
  for (int t = 1; t < nt; ++t) pool.emplace_back(work, total * t / nt, total * (t + 1) / nt);
  work(0, total / nt);
  for (auto& th : pool) th.join();
}


// Operands: scalars, N parameters (or the gradients again when the method
// reads no parameters), N gradients, then the state buffers (two for Adam,
// one otherwise). Results: N outputs, then the new state buffers.
ffi::Error StepImpl(ffi::AnyBuffer scalars, ffi::RemainingArgs args, ffi::RemainingRets rets,
                    int64_t method, ffi::Span<const int64_t> offsets, bool step, bool flag) {
  if (method < kAdam || method > kAdagrad) return ffi::Error::InvalidArgument("adamx fused: unknown method");
  Call c{static_cast<Method>(method), step, flag, scalars.untyped_data()};
  size_t slots = c.method == kAdam ? 2 : 1;
  if (args.size() < slots || (args.size() - slots) % 2 != 0 || rets.size() != (args.size() - slots) / 2 + slots)
    return ffi::Error::InvalidArgument("adamx fused: expected 2N + state operands and N + state results");
  size_t n = (args.size() - slots) / 2;
  ffi::DataType t = scalars.element_type();
  if (t != ffi::DataType::F32 && t != ffi::DataType::F64)
    return ffi::Error::InvalidArgument("adamx fused: compute dtype must be float32 or float64");
  if (scalars.element_count() != scalar_count(c.method))
    return ffi::Error::InvalidArgument("adamx fused: wrong number of scalars");
  size_t state_size = 0;
  for (size_t k = 0; k < slots; ++k) {
    auto in = args.get<ffi::AnyBuffer>(2 * n + k);
    auto result = rets.get<ffi::AnyBuffer>(n + k);
    if (!in || !result) return ffi::Error::InvalidArgument("adamx fused: cannot decode a state buffer");
    ffi::DataType st = in->element_type();
    if (st != t && st != ffi::DataType::BF16)
      return ffi::Error::InvalidArgument("adamx fused: state must be the compute dtype or bfloat16");
    if (k > 0 && in->element_count() != state_size)
      return ffi::Error::InvalidArgument("adamx fused: state buffers differ in size");
    state_size = in->element_count();
    (k == 0 ? c.a : c.b) = (*result)->untyped_data();
    (k == 0 ? c.a16 : c.b16) = st == ffi::DataType::BF16;
  }
  if (slots == 1) { c.b = c.a; c.b16 = c.a16; }  // unused
  if (offsets.size() != n) return ffi::Error::InvalidArgument("adamx fused: one offset per leaf");
  c.leaves.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto p = args.get<ffi::AnyBuffer>(i), g = args.get<ffi::AnyBuffer>(n + i);
    auto o = rets.get<ffi::AnyBuffer>(i);
    if (!p || !g || !o) return ffi::Error::InvalidArgument("adamx fused: cannot decode a leaf");
    size_t count = g->element_count();
    if (p->element_type() != t || g->element_type() != t || p->element_count() != count)
      return ffi::Error::InvalidArgument("adamx fused: leaf dtype or size mismatch");
    size_t at = static_cast<size_t>(offsets[i]);
    if (offsets[i] < 0 || at + count > state_size)
      return ffi::Error::InvalidArgument("adamx fused: a leaf overruns the state buffers");
    // A step updates the parameters in place: their result aliases their input.
    void* params = step ? (*o)->untyped_data() : const_cast<void*>(p->untyped_data());
    c.leaves[i] = Leaf{params, g->untyped_data(), (*o)->untyped_data(), at, count};
  }
  run_all(c, t == ffi::DataType::F32 ? pick_storage<float>(c) : pick_storage<double>(c));
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(AdamxFusedStep, StepImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()
                                  .RemainingArgs()
                                  .RemainingRets()
                                  .Attr<int64_t>("method")
                                  .Attr<ffi::Span<const int64_t>>("offsets")
                                  .Attr<bool>("step")
                                  .Attr<bool>("flag"));

// The bandwidth reference the benchmarks divide by: Adam's access pattern
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
