# 32-bit ARM (armhf), the word size of most routers simpled ships to:
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-armhf.cmake
# Needs gcc-arm-linux-gnueabihf, the :armhf -dev packages and
# qemu-user-static (see debian-cross.cmake).
set(SD_TRIPLET arm-linux-gnueabihf)
set(SD_PROCESSOR arm)
set(SD_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
