# Injected into every package of a workspace built against the ROS 2 pip wheels
# (colcon build --cmake-args -DCMAKE_PROJECT_INCLUDE=<this file>; ros2_ws/ros-env.sh does it).
#
# The wheels' exported CMake targets (e.g. builtin_interfaces::builtin_interfaces__rosidl_generator_py)
# name the include folders of the machine they were built on:
#   /opt/python/cp311-cp311/include/python3.11
#   /opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include
# CMake refuses to generate a build that uses a target whose include folder does not exist.
# At the end of the top-level CMakeLists (after every find_package), this replaces those two
# folders on every imported target with this Python's and numpy's, as found by FindPython3.
# Nothing on disk changes; on a normal ROS install (no such paths) it does nothing.

set(WHEEL_BUILD_PYTHON_PREFIX "/opt/python/cp311-cp311")

function(_skelstream_relocate_wheel_python_paths)
  get_property(targets DIRECTORY "${CMAKE_SOURCE_DIR}" PROPERTY IMPORTED_TARGETS)
  set(wheel_include "${WHEEL_BUILD_PYTHON_PREFIX}/include/python3.11")
  set(wheel_numpy "${WHEEL_BUILD_PYTHON_PREFIX}/lib/python3.11/site-packages/numpy/_core/include")
  set(relocated "")
  foreach(target IN LISTS targets)
    get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT dirs OR NOT dirs MATCHES "${WHEEL_BUILD_PYTHON_PREFIX}")
      continue()
    endif()
    if(NOT Python3_INCLUDE_DIRS OR NOT Python3_NumPy_INCLUDE_DIRS)
      find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module NumPy)
    endif()
    list(TRANSFORM dirs REPLACE "^${wheel_numpy}$" "${Python3_NumPy_INCLUDE_DIRS}")
    list(TRANSFORM dirs REPLACE "^${wheel_include}$" "${Python3_INCLUDE_DIRS}")
    set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${dirs}")
    list(APPEND relocated ${target})
  endforeach()
  list(LENGTH relocated count)
  if(count)
    message(STATUS "wheel_python_paths: ${count} imported targets now use ${Python3_INCLUDE_DIRS} and ${Python3_NumPy_INCLUDE_DIRS}")
  endif()
endfunction()

cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _skelstream_relocate_wheel_python_paths)
