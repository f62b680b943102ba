# Cross build on a Debian amd64 host with Debian's cross compiler and the
# target's multiarch -dev packages (dpkg --add-architecture ARCH), tests
# run by qemu-user-static. Included by the toolchain-*.cmake files, which
# set SD_TRIPLET (the GNU triplet), SD_PROCESSOR and SD_QEMU. The e2e
# tests, which drive the daemon with the host's sipp and sipsak, are not
# built (SIMPLED_E2E is off when cross compiling); .ci/cross runs the
# daemon itself under qemu against them.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${SD_PROCESSOR})
set(CMAKE_C_COMPILER ${SD_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${SD_TRIPLET})

# The cross libc lives in /usr/TRIPLET; Debian's :ARCH packages install
# their libraries in /usr/lib/TRIPLET and their (architecture-
# independent) headers in /usr/include. Libraries are looked up only
# there, so no amd64 archive can be picked by mistake; programs (python3
# for Kconfig) are the host's.
set(CMAKE_FIND_ROOT_PATH /usr/${SD_TRIPLET} /usr)
set(CMAKE_LIBRARY_PATH /usr/lib/${SD_TRIPLET})
set(CMAKE_INCLUDE_PATH /usr/include/${SD_TRIPLET} /usr/include)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The tests link libcmocka.so (Debian ships no libcmocka.a), so they run
# through a loader: the one of the target's libc6 (a dependency of its
# libcmocka0), with its own libc.so.6. "-L /usr/TRIPLET" would pair the
# cross toolchain's loader with that libc.so.6 (another build of glibc);
# "-L /" keeps them one. The daemon itself is static.
set(CMAKE_CROSSCOMPILING_EMULATOR "${SD_QEMU};-L;/")
