module example.com/tally

go 1.24

require example.com/textstats v1.3.0

// The dependency is vendored in third_party/, so the build needs no network.
replace example.com/textstats => ./third_party/textstats
