// Writing JSON, as the daemons' control replies and xnetctl do: a writer
// that keeps the commas and the quoting, so that no reply is spliced
// together by hand and no text echoed in one (a request, a fault message,
// an interface name) can break it.
//
//   JsonWriter w;
//   w.begin_object();
//   w.field("name", name).field("queues", n);
//   w.key("counters").raw(counters.json());  // a value written elsewhere
//   w.end_object();
//   std::string reply = w.take();  // {"name":"vif1.0","queues":2,"counters":{...}}
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xnet {

// S as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

class JsonWriter {
  public:
    JsonWriter& begin_object() { return open('{'); }
    JsonWriter& end_object() { return close('}'); }
    JsonWriter& begin_array() { return open('['); }
    JsonWriter& end_array() { return close(']'); }

    // The key of the next value, inside an object.
    JsonWriter& key(std::string_view k);

    JsonWriter& value(std::string_view s);
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
    JsonWriter& value(bool b);
    template <std::integral T>
    requires(!std::same_as<T, bool>) JsonWriter& value(T n) { return raw(std::to_string(n)); }
    // The value, or null when there is none.
    template <class T>
    JsonWriter& value(const std::optional<T>& v) {
        return v ? value(*v) : null();
    }
    JsonWriter& null();
    // A value already written as JSON (by another writer, say).
    JsonWriter& raw(std::string_view json);

    template <class T>
    JsonWriter& field(std::string_view k, const T& v) {
        return key(k).value(v);
    }

    const std::string& str() const { return out_; }
    std::string take() { return std::move(out_); }

  private:
    JsonWriter& open(char c);
    JsonWriter& close(char c);
    void before_value();  // the comma between elements, none after a key

    std::string out_;
    std::vector<bool> empty_;  // per open container: nothing in it yet
    bool after_key_ = false;
};

}  // namespace xnet
