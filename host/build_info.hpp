#pragma once
// What built this binary: the git revision at build time (cmake/git_revision.cmake;
// "-dirty" when the checkout had uncommitted changes). Results files record it.
namespace strata {
const char* git_revision();
}  // namespace strata

#define STRATA_GIT_REV (::strata::git_revision())
