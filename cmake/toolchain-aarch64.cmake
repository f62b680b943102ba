# 64-bit ARM (filogic, bcm27xx, ...):
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake
# Needs gcc-aarch64-linux-gnu, the :arm64 -dev packages and
# qemu-user-static (see debian-cross.cmake).
set(SD_TRIPLET aarch64-linux-gnu)
set(SD_PROCESSOR aarch64)
set(SD_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
