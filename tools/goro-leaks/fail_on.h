// `--fail-on EXPR`: the condition under which goro-leaks exits with
// kExitFailOn, for CI. EXPR is one or more terms separated by commas; the
// condition holds when any term does:
//
//   leak | leaked        some group's verdict is "leak"
//   suspect              some group's verdict is "suspect" or "leak"
//   cause=<id>           some suspect or leaking group has this cause
//   <metric><op><N>      op is one of > >= < <= ==, metric one of:
//     count              the largest group in the newest snapshot
//     total              goroutines in the newest snapshot
//     growth             the largest growth of one group, first to last snapshot
//     total-growth       total of the last snapshot minus total of the first
//     leaks, suspects    how many groups are judged leak / at least suspect
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "analysis.h"

namespace goro_leaks {

// Exit codes of the goro-leaks command.
constexpr int kExitOk = 0;      // done; --fail-on (if given) did not hold
constexpr int kExitFailOn = 1;  // done; --fail-on held
constexpr int kExitError = 2;   // bad usage, unreadable or malformed input

class FailOnError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class FailOn {
 public:
  // Throws FailOnError naming the bad term.
  explicit FailOn(std::string_view expr);

  // The terms that hold, each with the value that made it hold
  // ("growth>100: growth is 250 (main.worker)"). Empty: the condition fails.
  std::vector<std::string> matches(const Analysis& a) const;

  const std::string& text() const { return text_; }

 private:
  struct Term {
    std::string text;
    std::string metric;  // "leak", "suspect", "cause", "count", ...
    std::string op;      // for metrics
    std::int64_t value = 0;
    std::string cause;   // for cause=
  };
  std::string text_;
  std::vector<Term> terms_;
};

}  // namespace goro_leaks
