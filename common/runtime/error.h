// An error from a platform operation: an errno-style code and the operation
// that failed, named the way the log and the xenstore `error` node show it
// ("mapping tx-ring-ref 8 of domain 3").
#pragma once

#include <string>

#include "runtime/expected.h"

namespace xnet {

struct Error {
    int code = 0;      // errno value (EACCES, ENOENT, ...), 0 if none applies
    std::string what;  // the operation, e.g. "reading backend/vif/1/0/state"

    // "reading backend/vif/1/0/state: No such file or directory"
    std::string message() const;
};

template <class T>
using Result = Expected<T, Error>;
using Status = Expected<void, Error>;

inline Unexpected<Error> fail(int code, std::string what) {
    return Unexpected{Error{code, std::move(what)}};
}

}  // namespace xnet
