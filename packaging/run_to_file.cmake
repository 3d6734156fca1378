# run_to_file.cmake - run COMMAND with ARGS and write its standard output to
# OUTPUT; fail the build if it fails.  Used to generate documents from the
# programs that own their tables:
#   cmake -DCOMMAND=prog -DARGS=--man -DOUTPUT=file -P run_to_file.cmake
execute_process(COMMAND ${COMMAND} ${ARGS} OUTPUT_FILE ${OUTPUT} RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  file(REMOVE ${OUTPUT})
  message(FATAL_ERROR "${COMMAND} ${ARGS} failed: ${status}")
endif()
