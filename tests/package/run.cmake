# Installs nat from the build tree into a scratch prefix, then configures, builds and runs a consumer
# project twice: once through find_package(nat CONFIG REQUIRED), once through add_subdirectory.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
execute_process(COMMAND ${CMAKE_COMMAND} --install ${NAT_BINARY_DIR} --prefix ${prefix}
  RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
foreach(mode find_package add_subdirectory)
  set(bdir ${WORK_DIR}/${mode})
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${NAT_SOURCE_DIR}/tests/package/consumer -B ${bdir}
    -G ${CMAKE_GENERATOR} -DCMAKE_PREFIX_PATH=${prefix} -DCONSUMER_MODE=${mode}
    -DNAT_SOURCE_DIR=${NAT_SOURCE_DIR} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer configure (${mode}) failed")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${bdir} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer build (${mode}) failed")
  endif()
  execute_process(COMMAND ${bdir}/consumer RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer run (${mode}) failed: ${out}")
  endif()
  message(STATUS "${mode}: ${out}")
endforeach()
