# Project-wide warning flags (STYLE.md section 3), applied through iocgrid_warnings.
add_library(iocgrid_warnings INTERFACE)
target_compile_options(iocgrid_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast)
if(IOCGRID_WERROR)
  target_compile_options(iocgrid_warnings INTERFACE -Werror)
endif()
if(IOCGRID_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
