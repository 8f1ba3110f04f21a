#include "runtime/worker.h"

#include <pthread.h>

#include <system_error>

#include "runtime/log.h"

namespace xnet {

Result<std::unique_ptr<Worker>> Worker::start(std::string name,
                                              std::chrono::milliseconds stall_report) {
    XNET_TRY_ASSIGN(auto loop, EpollReactor::create());
    loop->report_stalls(stall_report);
    std::unique_ptr<Worker> w(new Worker(std::move(name), std::move(loop)));
    w->loop_->lock_rounds(&w->round_);
    try {
        w->thread_ = std::thread([p = w.get()] {
            if (auto st = p->loop_->run(); !st) {
                log::error("worker {}: {}", p->name_, st.error().message());
            }
        });
    } catch (const std::system_error& e) {
        return fail(e.code().value(), "starting worker thread " + w->name_);
    }
    pthread_setname_np(w->thread_.native_handle(), w->name_.substr(0, 15).c_str());
    return w;
}

Worker::~Worker() {
    if (!thread_.joinable()) return;
    loop_->post([this] { loop_->stop(); });
    thread_.join();
}

Worker::Hold::~Hold() {
    if (!lock_.owns_lock()) return;
    lock_.unlock();
    w_->loop_->wake();
}

EpollReactor::Stalls Worker::stalls() {
    auto h = hold();
    return loop_->stalls();
}

void Worker::reset_stalls() {
    auto h = hold();
    loop_->reset_stalls();
}

}  // namespace xnet
