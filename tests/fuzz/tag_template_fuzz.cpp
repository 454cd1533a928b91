// Tag templates as users write them (--log-opt tag=...), parsed and then
// executed over a fixed container. Whatever the template, an execution must
// keep tag::Template's bounds: it renders at most kMaxValueBytes or fails with
// TemplateError; its counted work stays within kMaxSteps and kMaxBytesMoved;
// and the heap it really takes follows that count (AddressSanitizer's
// allocator hooks; scripts/fuzz.sh builds with it): no allocation larger
// than a value may be, and the heap never grows by more than the bytes
// counted and the few values an execution holds uncounted (the tag being
// printed, a function's result being made). The count also bounds the time;
// libFuzzer's -timeout catches a unit that runs long anyway.
#include <sanitizer/allocator_interface.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "logguard/format/container_info.h"
#include "logguard/tag_template/tag_template.h"

namespace {

using logguard::tag::Template;

void check(bool ok) {
  if (!ok) std::abort();
}

// The heap while an execution runs; counted only between start() and stop().
struct HeapWatch {
  bool on = false;
  int64_t live = 0;  // bytes allocated minus bytes freed since start()
  int64_t peak = 0;
  size_t largest = 0;

  void start() {
    live = peak = 0;
    largest = 0;
    on = true;
  }
  void stop() { on = false; }
} heap;

void on_malloc(const volatile void*, size_t size) {
  if (!heap.on) return;
  heap.live += static_cast<int64_t>(size);
  heap.peak = std::max(heap.peak, heap.live);
  heap.largest = std::max(heap.largest, size);
}

void on_free(const volatile void* p) {
  if (heap.on) heap.live -= static_cast<int64_t>(__sanitizer_get_allocated_size(
                    const_cast<const void*>(p)));
}

const logguard::ContainerInfo& container() {
  static const logguard::ContainerInfo info = [] {
    logguard::ContainerInfo i;
    i.id = std::string(64, 'c');
    i.name = "/fuzz";
    i.entrypoint = "sh";
    i.args = {"-c", "echo hi"};
    i.image_id = "sha256:" + std::string(64, 'd');
    i.image_name = "busybox";
    i.created = "2025-01-02T03:04:05.5Z";
    i.env = {"A=1", "B=", "NOEQ"};
    i.labels = {{"team", "payments"}, {"uni", "\xc3\xa9t\xc3\xa9 \xc7\xb3"}};
    i.log_opts = {{"labels", "team"}, {"env", "A"}};
    return i;
  }();
  return info;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<Template> tag;
  try {
    tag.emplace(text);
  } catch (const logguard::tag::TemplateError&) {
    return 0;
  }
  logguard::tag::TemplateData template_data;
  template_data.info = &container();
  template_data.hostname = [] { return std::string("fuzz-host"); };
  template_data.extra_attributes = [] {
    return std::map<std::string, std::string>{{"APP", "shop"}, {"team", "payments"}};
  };
  Template::Work work;
  heap.start();
  try {
    const std::string out = tag->execute(template_data, &work);
    check(out.size() <= Template::kMaxValueBytes);
    check(work.steps <= Template::kMaxSteps && work.bytes <= Template::kMaxBytesMoved);
  } catch (const logguard::tag::TemplateError&) {
    // Failed, possibly at a bound: the count stops one step or one value past it.
    check(work.steps <= Template::kMaxSteps + 1);
    check(work.bytes <= Template::kMaxBytesMoved + 2 * Template::kMaxValueBytes);
  }
  heap.stop();
  // A string's buffer holds its terminating NUL too.
  check(heap.largest <= Template::kMaxValueBytes + 1);
  constexpr int64_t kUncounted = 4 * int64_t{Template::kMaxValueBytes};
  check(heap.peak <= static_cast<int64_t>(work.bytes) + kUncounted);
  return 0;
}
