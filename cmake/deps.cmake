# Dependencies from Debian's -dev packages (OpenWrt: the feed packages).
# With SIMPLED_STATIC the .a archives are preferred so the daemon is one file.
function(sd_find_lib var name)
	if(SIMPLED_STATIC)
		find_library(${var} NAMES lib${name}.a ${name} REQUIRED)
	else()
		find_library(${var} NAMES ${name} REQUIRED)
	endif()
endfunction()

find_path(OSIP_INCLUDE_DIR osipparser2/osip_parser.h REQUIRED)
find_path(LMDB_INCLUDE_DIR lmdb.h REQUIRED)
find_path(MBEDTLS_INCLUDE_DIR mbedtls/ssl.h REQUIRED)
find_path(UTHASH_INCLUDE_DIR uthash.h REQUIRED)

# libosip2 must come before libosipparser2: the former uses the latter.
sd_find_lib(OSIP2_LIB osip2)
sd_find_lib(OSIPPARSER2_LIB osipparser2)
sd_find_lib(LMDB_LIB lmdb)
sd_find_lib(MBEDTLS_LIB mbedtls)
sd_find_lib(MBEDX509_LIB mbedx509)
sd_find_lib(MBEDCRYPTO_LIB mbedcrypto)



# A cross build (cmake/toolchain-armhf.cmake) finds the same names in the
# target's multiarch directory (/usr/lib/arm-linux-gnueabihf). cmocka is
# the shared library in every build: Debian ships no libcmocka.a (amd64
# nor armhf), so the test binaries are dynamic (under qemu they run
# through the loader of libc6:armhf).
if(SIMPLED_TESTS)
	find_path(CMOCKA_INCLUDE_DIR cmocka.h REQUIRED)
	find_library(CMOCKA_LIB NAMES cmocka REQUIRED)
endif()
