# Kconfig glue: board defconfig -> build/.config -> generated/simpled_config.h,
# plus every CONFIG_* symbol as a CMake variable for per-module sources.
# Uses Debian's python3-kconfiglib through /usr/bin/python3 on purpose: a
# pyenv python3 first on PATH cannot import it.
set(KCONFIG_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with kconfiglib")
set(KCONFIG_ROOT ${CMAKE_SOURCE_DIR}/Kconfig)
set(KCONFIG_DOTCONFIG ${CMAKE_BINARY_DIR}/.config)
set(KCONFIG_HEADER ${CMAKE_BINARY_DIR}/generated/simpled_config.h)
set(BOARD_DEFCONFIG ${CMAKE_SOURCE_DIR}/board/${BOARD}/defconfig)
# Extra CONFIG_ lines applied over the board's (e.g. a service switched
# off): a file, or a ;-separated list of lines.
set(SIMPLED_OVERLAY "" CACHE STRING "Kconfig lines or a file over the board defconfig")

if(NOT EXISTS ${BOARD_DEFCONFIG})
	message(FATAL_ERROR "unknown board '${BOARD}': ${BOARD_DEFCONFIG} missing")
endif()
file(READ ${BOARD_DEFCONFIG} _defconfig)
if(SIMPLED_OVERLAY AND EXISTS "${SIMPLED_OVERLAY}")
	file(READ ${SIMPLED_OVERLAY} _overlay)
else()
	string(REPLACE ";" "\n" _overlay "${SIMPLED_OVERLAY}")
endif()
set(_merged ${CMAKE_BINARY_DIR}/defconfig.merged)
file(WRITE ${_merged}.new "${_defconfig}\n${_overlay}\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${_merged}.new
	${_merged} RESULT_VARIABLE _changed OUTPUT_QUIET ERROR_QUIET)
if(_changed)
	# A new board or overlay: start the .config again from it.
	file(RENAME ${_merged}.new ${_merged})
	file(REMOVE ${KCONFIG_DOTCONFIG})
else()
	file(REMOVE ${_merged}.new)
endif()

set(_kenv ${CMAKE_COMMAND} -E env srctree=${CMAKE_SOURCE_DIR}
	KCONFIG_CONFIG=${KCONFIG_DOTCONFIG})

if(NOT EXISTS ${KCONFIG_DOTCONFIG})
	execute_process(COMMAND ${_kenv} ${KCONFIG_PYTHON} -m defconfig
		--kconfig ${KCONFIG_ROOT} ${_merged}
		WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
		RESULT_VARIABLE _rc OUTPUT_QUIET)
	if(NOT _rc EQUAL 0)
		message(FATAL_ERROR "Kconfig defconfig failed (is python3-kconfiglib installed?)")
	endif()
endif()

file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/generated)
# --config-out: a .config made before a symbol was added gets its default
# (as olddefconfig would), so the CMake variables below know it too.
execute_process(COMMAND ${_kenv} ${KCONFIG_PYTHON} -m genconfig
	--header-path ${KCONFIG_HEADER} --config-out ${KCONFIG_DOTCONFIG}
	${KCONFIG_ROOT}
	WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
	message(FATAL_ERROR "Kconfig genconfig failed")
endif()

# Re-run CMake when the configuration or any Kconfig file changes.
file(GLOB_RECURSE _kfiles ${CMAKE_SOURCE_DIR}/Kconfig
	${CMAKE_SOURCE_DIR}/*/Kconfig)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
	${KCONFIG_DOTCONFIG} ${BOARD_DEFCONFIG} ${_kfiles})

file(STRINGS ${KCONFIG_DOTCONFIG} _lines REGEX "^CONFIG_")
foreach(_l IN LISTS _lines)
	if(_l MATCHES "^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
		set(${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
	endif()
endforeach()

add_custom_target(menuconfig
	COMMAND ${_kenv} ${KCONFIG_PYTHON} -m menuconfig ${KCONFIG_ROOT}
	COMMAND ${CMAKE_COMMAND} ${CMAKE_BINARY_DIR}
	WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} USES_TERMINAL
	COMMENT "Edit ${KCONFIG_DOTCONFIG}")
