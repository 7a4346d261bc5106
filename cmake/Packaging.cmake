# Install rules and the Debian package (CPack DEB).
#
#   cmake --build build && (cd build && cpack -G DEB)
#       → build/homelab-observer_<version>_<arch>.deb
#
# Where things land (the .deb installs under the prefix /usr):
#   /usr/bin/homelab-observer
#   /lib/systemd/system/homelab-observer.service     (HLO_SYSTEMD_UNIT_DIR)
#   /etc/default/homelab-observer                    (a conffile)
#   /usr/share/homelab-observer/dashboards/...       (dashboards/: *.json, provisioning/*.yml)
#   /usr/share/homelab-observer/alerts/*.yml         (alerts/)
#   /usr/share/homelab-observer/prometheus-scrape.yml
#   /usr/share/doc/homelab-observer/*.md             (README.md, docs/*.md)
# and the maintainer scripts of deploy/debian/ (postinst, prerm, postrm).
#
# The unit and the /etc/default file use absolute destinations: they belong
# where systemd and the unit look, whatever the prefix. CPack stages them
# under DESTDIR, but a plain `cmake --install` as root writes them to the real
# /lib/systemd/system and /etc/default (and the unit's ExecStart names
# /usr/bin/homelab-observer), so install by hand only with --prefix /usr, or
# use the .deb.
#
# dashboards/ and alerts/ are globbed with CONFIGURE_DEPENDS: files added
# later are picked up by the next build (cpack builds first), and a missing
# folder just installs nothing.

include(GNUInstallDirs)

set(HLO_SYSTEMD_UNIT_DIR "/lib/systemd/system" CACHE STRING
  "Where the systemd unit is installed (Debian 12: /lib/systemd/system)")
set(HLO_PACKAGE_MAINTAINER "homelab-observer maintainers <root@localhost>" CACHE STRING
  "Maintainer field of the Debian package")

set(HLO_DEPLOY_DIR ${PROJECT_SOURCE_DIR}/deploy)
set(HLO_DATA_DIR ${CMAKE_INSTALL_DATADIR}/homelab-observer)

# --- install rules -------------------------------------------------------

install(TARGETS homelab-observer RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(FILES ${HLO_DEPLOY_DIR}/homelab-observer.service
  DESTINATION ${HLO_SYSTEMD_UNIT_DIR})
install(FILES ${HLO_DEPLOY_DIR}/homelab-observer.default
  DESTINATION /etc/default RENAME homelab-observer)
install(FILES ${HLO_DEPLOY_DIR}/prometheus-scrape.yml DESTINATION ${HLO_DATA_DIR})

# Install the files matching GLOBS under ${PROJECT_SOURCE_DIR}/<folder> into
# <destination>, keeping sub-folders (e.g. dashboards/provisioning/), except
# those whose relative path matches the regular expression EXCLUDE.
function(hlo_install_tree folder destination)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "EXCLUDE" "GLOBS")
  set(globs)
  foreach(pattern IN LISTS arg_GLOBS)
    list(APPEND globs ${PROJECT_SOURCE_DIR}/${folder}/${pattern})
  endforeach()
  file(GLOB_RECURSE files CONFIGURE_DEPENDS
    RELATIVE ${PROJECT_SOURCE_DIR}/${folder} ${globs})
  list(SORT files)
  foreach(file IN LISTS files)
    if(arg_EXCLUDE AND file MATCHES "${arg_EXCLUDE}")
      continue()
    endif()
    get_filename_component(subdir "${file}" DIRECTORY)
    install(FILES ${PROJECT_SOURCE_DIR}/${folder}/${file}
      DESTINATION ${destination}/${subdir})
  endforeach()
endfunction()

# Dashboards JSON, Grafana provisioning files, their README.
hlo_install_tree(dashboards ${HLO_DATA_DIR}/dashboards GLOBS *.json *.yml *.yaml *.md)
# Alert rules and the example Alertmanager configuration; not the promtool /
# amtool test files (*.test.yml, *.test), which only make sense in the tree.
hlo_install_tree(alerts ${HLO_DATA_DIR}/alerts GLOBS *.yml *.yaml *.tmpl *.md
  EXCLUDE "(^|/)[^/]*\\.test(\\.[^/]*)?$")

file(GLOB HLO_DOC_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${HLO_DOC_FILES}
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

# --- the Debian package --------------------------------------------------

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME homelab-observer)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "homelab-observer")
set(CPACK_PACKAGE_CONTACT "${HLO_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "world model and Prometheus metrics of a homelab, from its event files")
set(CPACK_PACKAGE_DESCRIPTION
  "homelab-observer reads the event files a homelab's tools write to
/opt/homelab/events, keeps a world model of nodes, services, deployments and
incidents in /opt/homelab/world/*.json, and serves it as Prometheus metrics.
The package ships a hardened systemd unit (not enabled on install), Grafana
dashboards, Prometheus alert rules and a scrape configuration snippet.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)

set(CPACK_DEBIAN_PACKAGE_NAME homelab-observer)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # homelab-observer_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${HLO_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus, prometheus-alertmanager")
# civetweb (Debian 12) opens libcrypto.so by that name for TLS, and only
# libssl-dev ships it: needed for --web.config.file with tls_server_config.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libssl-dev")

# Shared-library dependencies: computed by dpkg-shlibdeps (package dpkg-dev)
# when it is there, which also needs `file`; else the list of Debian 12.
# adduser is for postinst either way (CPack appends the computed list).
find_program(HLO_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(HLO_FILE_PROGRAM file)
if(HLO_DPKG_SHLIBDEPS AND HLO_FILE_PROGRAM)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
else()
  message(STATUS "dpkg-shlibdeps or file not found: the .deb gets a fixed Depends list")
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "adduser, libcivetweb1, libyaml-cpp0.7, libsimdjson14, zlib1g, libssl3, libcrypt1, libstdc++6, libgcc-s1, libc6")
endif()

# Maintainer scripts, and conffiles: CPack 3.25 does not mark files under /etc
# as conffiles by itself (debhelper would), so the list is written here.
# Without it dpkg would overwrite an edited /etc/default/homelab-observer on
# upgrade and not keep it on remove.
set(HLO_CONFFILES ${CMAKE_BINARY_DIR}/debian-control/conffiles)
file(CONFIGURE OUTPUT ${HLO_CONFFILES} CONTENT "/etc/default/homelab-observer\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${HLO_DEPLOY_DIR}/debian/postinst
  ${HLO_DEPLOY_DIR}/debian/prerm
  ${HLO_DEPLOY_DIR}/debian/postrm
  ${HLO_CONFFILES})
# Maintainer scripts 0755 and conffiles 0644, whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)
