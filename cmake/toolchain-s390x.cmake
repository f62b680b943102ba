# 64-bit big-endian (s390x), standing in for the big-endian MIPS routers
# (ath79) Debian 12 cannot build for: it runs the unit and sim tests with
# the other byte order.
#   cmake -S . -B build-s390x -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-s390x.cmake
# Needs gcc-s390x-linux-gnu, the :s390x -dev packages and qemu-user-static
# (see debian-cross.cmake).
set(SD_TRIPLET s390x-linux-gnu)
set(SD_PROCESSOR s390x)
set(SD_QEMU qemu-s390x-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
