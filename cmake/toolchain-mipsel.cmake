# 32-bit MIPS little-endian (ramips, e.g. MT7621 routers):
#   cmake -S . -B build-mipsel -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mipsel.cmake
# Needs gcc-mipsel-linux-gnu, the :mipsel -dev packages and
# qemu-user-static (see debian-cross.cmake). Debian's mipsel is glibc
# hard-float; OpenWrt's is musl soft-float (the README says what that
# leaves untested).
set(SD_TRIPLET mipsel-linux-gnu)
set(SD_PROCESSOR mipsel)
set(SD_QEMU qemu-mipsel-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
