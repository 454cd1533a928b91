// Sizes and rates as users write them in log-opts, and back as text.
//
// Sizes follow Docker's go-units FromHumanSize (what json-file's max-size
// uses): a non-negative decimal number, an optional single space, and an
// optional case-insensitive suffix b, k, m, g, t, p (decimal: k = 1000), each
// optionally followed by "b" ("10mb"); the fraction is truncated after
// scaling ("1.5k" = 1500). One deliberate difference: "Ki", "KiB", "Mi",
// "MiB"... are binary (1024-based) here, where go-units quietly reads them as
// decimal. Leading and trailing blanks are ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace logguard {

// Bytes, or nullopt if malformed or beyond 2^64-1.
std::optional<uint64_t> parse_size(std::string_view text);

// Bytes per second: a size with an optional "/s"; "off" (any case) means
// unlimited and reads as 0, as does any size of 0.
std::optional<uint64_t> parse_rate(std::string_view text);

// Items (lines) per second: a non-negative decimal number with an optional
// "/s" ("100", "0.5/s"); "off" or 0 means unlimited and reads as 0.
std::optional<double> parse_count_rate(std::string_view text);

// A byte count as a person would write it: exact decimal units when they fit
// ("10MB", "512kB"), else exact binary ones ("512KiB"), else four significant
// digits of decimal units ("11.83MB"). Counts under 1000 are "999B". `sep`
// goes between number and unit ("11.8 MB" for prose).
std::string format_size(uint64_t bytes, std::string_view sep = "");

}  // namespace logguard
