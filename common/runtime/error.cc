#include "runtime/error.h"

#include <cstring>

namespace xnet {

std::string Error::message() const {
    if (code == 0) return what;
    return what + ": " + std::strerror(code);
}

}  // namespace xnet
