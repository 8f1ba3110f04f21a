// The daemons' control replies, flattened for printing: every scalar with
// its path ("counters.tx.packets" = "12"). Only what our daemons write is
// expected (objects, arrays, strings, numbers, true/false/null); anything
// else ends the walk with an error rather than a guess.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/error.h"

namespace xnet::ctl {

using Flat = std::vector<std::pair<std::string, std::string>>;

Result<Flat> flatten(std::string_view json);

// The text of each element of the array at PATH ("vifs"), as it stands in
// JSON: for replies that are merged rather than printed.
Result<std::vector<std::string_view>> array_items(std::string_view json, std::string_view path);

// The value at PATH, or empty.
std::string lookup(const Flat& f, std::string_view path);

}  // namespace xnet::ctl
