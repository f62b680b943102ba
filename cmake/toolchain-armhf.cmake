# 32-bit ARM (armhf) cross build on a Debian amd64 host, the word size of
# most routers simpled ships to. Needs gcc-arm-linux-gnueabihf, the :armhf
# -dev packages (dpkg --add-architecture armhf) and qemu-user-static:
#   cmake -S . -B build-armhf \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-armhf.cmake
# ctest runs the test binaries through qemu-arm-static, named here (no
# binfmt_misc needed). The e2e tests, which drive the daemon with the
# host's sipp and sipsak, are not built (SIMPLED_E2E is off when cross
# compiling).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)

# The cross libc lives in /usr/arm-linux-gnueabihf; Debian's :armhf
# packages install their libraries in /usr/lib/arm-linux-gnueabihf and
# their (architecture-independent) headers in /usr/include. Libraries are
# looked up only there, so no amd64 archive can be picked by mistake;
# programs (python3 for Kconfig) are the host's.
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf /usr)
set(CMAKE_LIBRARY_PATH /usr/lib/arm-linux-gnueabihf)
set(CMAKE_INCLUDE_PATH /usr/include/arm-linux-gnueabihf /usr/include)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The tests link libcmocka.so (Debian ships no armhf libcmocka.a), so they
# run through a loader: the one of libc6:armhf (a dependency of
# libcmocka0:armhf), /lib/ld-linux-armhf.so.3, with its own libc.so.6.
# "-L /usr/arm-linux-gnueabihf" would pair the cross toolchain's loader
# with that libc.so.6 (another build of glibc); "-L /" keeps them one.
set(CMAKE_CROSSCOMPILING_EMULATOR "qemu-arm-static;-L;/")
