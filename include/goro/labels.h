// Goroutine labels, like runtime/pprof's: key/value pairs attached to the
// running goroutine, inherited by the goroutines it creates, and shown in
// goroutine profiles (debug=1 "# labels: {...}" lines, debug=0 sample
// labels) so that a dump says which request or tenant a goroutine serves.
//
//   goro::with_labels({{"handler", "/api/users"}}, [&] {
//     goro::go(serve_user);       // inherits handler=/api/users
//     ...
//   });                           // the previous labels are back here
//
// Go keeps labels in a context.Context (pprof.Do / SetGoroutineLabels); goro
// keeps them on the goroutine itself, which is what Go's profiles read.
// Off goroutines (plain threads) labels belong to the thread and are
// inherited by goroutines it starts.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace goro {

// Labels as sorted, unique (key, value) pairs.
using Labels = std::vector<std::pair<std::string, std::string>>;

// The calling goroutine's (or thread's) labels, sorted by key. Never blocks.
Labels labels();

// The value of label `key` on the calling goroutine (or thread), if set,
// like pprof.Label.
std::optional<std::string> label(std::string_view key);

// Replaces the calling goroutine's (or thread's) labels with `labels`, like
// pprof.SetGoroutineLabels. When a key appears more than once the last
// value wins. Goroutines created afterwards inherit them; goroutines
// created before keep theirs. Never blocks. Allocates.
void set_labels(Labels labels);

// RAII: adds labels to the calling goroutine (or thread) for the guard's
// lifetime; on destruction the previous labels come back. A key that is
// already set takes the new value while the guard lives. Guards nest; they
// must be destroyed on the goroutine that created them, innermost first.
class ScopedLabels {
 public:
  explicit ScopedLabels(const Labels& add);
  ScopedLabels(std::initializer_list<std::pair<std::string, std::string>> add) : ScopedLabels(Labels(add)) {}
  ~ScopedLabels();
  ScopedLabels(const ScopedLabels&) = delete;
  ScopedLabels& operator=(const ScopedLabels&) = delete;

 private:
  void* previous_;  // the label set to restore (owned reference)
};

// Runs fn() with the calling goroutine's labels extended by `add` and
// restores the previous labels when fn returns or throws, like pprof.Do.
// Returns what fn returns. Goroutines created inside fn inherit the
// extended labels (and keep them after fn returns).
template <class F>
decltype(auto) with_labels(const Labels& add, F&& fn) {
  ScopedLabels scope(add);
  return std::forward<F>(fn)();
}
template <class F>
decltype(auto) with_labels(std::initializer_list<std::pair<std::string, std::string>> add, F&& fn) {
  ScopedLabels scope(add);
  return std::forward<F>(fn)();
}

}  // namespace goro
