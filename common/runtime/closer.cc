#include "runtime/closer.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace xnet::closer {
namespace {

struct Item {
    std::string tag;
    UniqueFd fd;
};

// One thread for the process, started on first use and joined at exit
// after it has closed everything left (a TAP being removed goes before the
// daemon does).
class Closer {
  public:
    ~Closer() {
        {
            std::lock_guard lock(m_);
            stopping_ = true;
        }
        more_.notify_one();
        if (thread_.joinable()) thread_.join();
    }

    void add(Item it) {
        std::unique_lock lock(m_);
        if (!start(lock)) {
            lock.unlock();
            it.fd.reset();  // no thread: close it here rather than leak it
            return;
        }
        pending_.push_back(std::move(it));
        lock.unlock();
        more_.notify_one();
    }

    // Until PENDING(queue, the item in hand) says nothing is left.
    template <class Pending>
    void wait(Pending pending) {
        std::unique_lock lock(m_);
        done_.wait(lock, [&] { return !pending(); });
    }

    bool any_tagged(std::string_view tag) const {
        if (busy_ && busy_tag_ == tag) return true;
        for (const auto& it : pending_)
            if (it.tag == tag) return true;
        return false;
    }
    bool any() const { return busy_ || !pending_.empty(); }

  private:
    bool start(std::unique_lock<std::mutex>&) {
        if (thread_.joinable()) return true;
        try {
            thread_ = std::thread([this] { run(); });
        } catch (const std::system_error&) {
            return false;
        }
        return true;
    }

    void run() {
        std::unique_lock lock(m_);
        for (;;) {
            more_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
            if (pending_.empty()) return;  // stopping, and all closed
            Item it = std::move(pending_.front());
            pending_.pop_front();
            busy_ = true;
            busy_tag_ = it.tag;
            lock.unlock();
            it.fd.reset();
            lock.lock();
            busy_ = false;
            done_.notify_all();
        }
    }

    std::mutex m_;
    std::condition_variable more_, done_;
    std::deque<Item> pending_;
    bool busy_ = false;  // closing one, outside the lock
    std::string busy_tag_;
    bool stopping_ = false;
    std::thread thread_;
};

Closer& the_closer() {
    static Closer c;
    return c;
}

}  // namespace

void close_later(UniqueFd fd, std::string tag) {
    if (!fd) return;
    the_closer().add({std::move(tag), std::move(fd)});
}

void wait_for(std::string_view tag) {
    auto& c = the_closer();
    c.wait([&] { return c.any_tagged(tag); });
}

void drain() {
    auto& c = the_closer();
    c.wait([&] { return c.any(); });
}

}  // namespace xnet::closer
