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

# mbedTLS is linked from its .a archives in every build (they are
# position-independent, so PIE and ASan builds take them too), copied with
# its calloc and free renamed: Debian's build has no platform memory hooks
# (MBEDTLS_PLATFORM_MEMORY), and this way every byte it holds comes from
# simpled's bounded allocator (sip/sip_crypto.c), while no other library's
# allocations are touched (as a linker --wrap of calloc/free would).
set(_mbed_dir ${CMAKE_BINARY_DIR}/mbedtls)
file(MAKE_DIRECTORY ${_mbed_dir})
foreach(_lib mbedtls mbedx509 mbedcrypto)
	string(TOUPPER ${_lib} _var)
	find_library(${_var}_ARCHIVE NAMES lib${_lib}.a REQUIRED)
	set(_out ${_mbed_dir}/lib${_lib}.a)
	if(${${_var}_ARCHIVE} IS_NEWER_THAN ${_out})
		execute_process(COMMAND ${CMAKE_OBJCOPY}
			--redefine-sym calloc=sd_mbedtls_calloc
			--redefine-sym free=sd_mbedtls_free
			${${_var}_ARCHIVE} ${_out}
			RESULT_VARIABLE _rc)
		if(NOT _rc EQUAL 0)
			message(FATAL_ERROR "objcopy of ${${_var}_ARCHIVE} failed")
		endif()
	endif()
	set(${_var}_LIB ${_out})
endforeach()



# A cross build (cmake/toolchain-armhf.cmake) finds the same names in the
# target's multiarch directory (/usr/lib/arm-linux-gnueabihf). cmocka is
# the shared library in every build: Debian ships no libcmocka.a (amd64
# nor armhf), so the test binaries are dynamic (under qemu they run
# through the loader of libc6:armhf).
if(SIMPLED_TESTS)
	find_path(CMOCKA_INCLUDE_DIR cmocka.h REQUIRED)
	find_library(CMOCKA_LIB NAMES cmocka REQUIRED)
endif()
