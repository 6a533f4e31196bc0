#pragma once
// A strided view of one variant's data inside a batch buffer.
// Blocked layout: variant v owns a contiguous record, stride 1.
// Interleaved layout (variant fastest, coalesced on a GPU): element k of variant v
// lives at base[k * n_variants + v], stride n_variants.
#include <cstddef>

#include "kernels/config.hpp"

namespace strata {

template <class T>
struct Strided {
  T* base = nullptr;
  std::ptrdiff_t stride = 1;
  STRATA_HD T& operator[](std::ptrdiff_t k) const { return base[k * stride]; }
  // The sub-view starting at element k (same stride).
  STRATA_HD Strided at(std::ptrdiff_t k) const { return Strided{base + k * stride, stride}; }
};

// Element k onwards of a view, or of a plain array (k elements further on).
template <class View>
STRATA_HD auto view_from(const View& v, std::ptrdiff_t k) -> decltype(v.at(k)) { return v.at(k); }
template <class T>
STRATA_HD T* view_from(T* p, std::ptrdiff_t k) { return p + k; }

enum class Layout : int { Blocked = 0, Interleaved = 1 };

// The view of variant v in a buffer of n_variants records of record_size elements.
template <class T>
STRATA_HD Strided<T> variant_view(T* buffer, Layout layout, std::ptrdiff_t n_variants,
                                  std::ptrdiff_t record_size, std::ptrdiff_t v) {
  return layout == Layout::Blocked ? Strided<T>{buffer + v * record_size, 1}
                                   : Strided<T>{buffer + v, n_variants};
}

}  // namespace strata
