// The control socket of a daemon: a Unix stream socket that answers one
// request line ("stats", "stats vif3.0", "list") with one JSON document,
// then closes. Served on the daemon's reactor; a slow or silent client
// costs one descriptor until it goes.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/error.h"
#include "runtime/json.h"
#include "runtime/reactor.h"

namespace xnet {

class ControlServer {
  public:
    using Handler = std::function<std::string(std::string_view request)>;
    static Result<std::unique_ptr<ControlServer>> listen(Reactor& r, const std::string& path,
                                                         Handler h);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

  private:
    struct Client;
    ControlServer(Reactor& r, std::string path, UniqueFd fd, Handler h);
    void accept_clients();
    void serve(int fd, uint32_t events);
    void drop(int fd);
    Reactor& r_;
    std::string path_;
    UniqueFd fd_;
    Handler h_;
    std::map<int, std::unique_ptr<Client>> clients_;
};

// The two reply shapes every daemon shares: {"vifs":[...]} over the
// interfaces' own JSON documents, and {"error":"..."}.
std::string control_list(const std::vector<std::string>& vifs_json);
std::string control_error(std::string_view message);

// Sends REQUEST to the daemon at PATH and returns its answer.
Result<std::string> control_request(const std::string& path, std::string_view request,
                                    int timeout_ms = 2000);

}  // namespace xnet
