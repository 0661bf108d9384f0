# Install layout and the Debian package (CPack DEB).
#
#   <prefix>/bin/iocgrid                       the binary
#   <prefix>/share/iocgrid/                    bundled data (data/: warninglists, members, queries)
#   <prefix>/share/iocgrid/web/                the portal's web UI (web/ minus tests, npm files)
#   <prefix>/share/iocgrid/demo.sh             the demo alliance, run from the install (+ wait-url.sh)
#   <prefix>/lib/systemd/system/*.service      units for node and portal (packaging/systemd)
#   <prefix>/share/doc/iocgrid/                copyright, deploy.md, examples/ (node.env, portal.toml)
#
# The binary finds share/iocgrid relative to its own location (src/extract/data_dir.h), so the
# tree works under any prefix and after DESTDIR staging. The .deb installs under /usr:
#   cmake --install build/ci --prefix /opt/iocgrid     (or DESTDIR=/tmp/root cmake --install ...)
#   (cd build/ci && cpack -G DEB)                      -> iocgrid_<version>_<arch>.deb
include(GNUInstallDirs)

install(TARGETS iocgrid RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT iocgrid)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/data/ DESTINATION ${CMAKE_INSTALL_DATADIR}/iocgrid
  COMPONENT iocgrid)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/web/ DESTINATION ${CMAKE_INSTALL_DATADIR}/iocgrid/web
  COMPONENT iocgrid
  PATTERN tests EXCLUDE
  PATTERN node_modules EXCLUDE
  PATTERN package.json EXCLUDE
  PATTERN package-lock.json EXCLUDE
  PATTERN .gitignore EXCLUDE)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/demo.sh DESTINATION ${CMAKE_INSTALL_DATADIR}/iocgrid
  COMPONENT iocgrid)
install(FILES ${PROJECT_SOURCE_DIR}/scripts/wait-url.sh DESTINATION ${CMAKE_INSTALL_DATADIR}/iocgrid
  COMPONENT iocgrid)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright
  COMPONENT iocgrid)
install(FILES ${PROJECT_SOURCE_DIR}/docs/deploy.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
  COMPONENT iocgrid)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/examples/node.env
              ${PROJECT_SOURCE_DIR}/packaging/examples/portal.toml
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT iocgrid)

# systemd units. The sources name /usr/bin/iocgrid (the .deb); an install under another prefix
# gets its own bin/ path, written at install time when the prefix is known.
foreach(unit iocgrid-node.service iocgrid-portal.service)
  install(CODE "set(IOCGRID_UNIT_SRC [[${PROJECT_SOURCE_DIR}/packaging/systemd/${unit}]])
    set(IOCGRID_UNIT_OUT [[${PROJECT_BINARY_DIR}/systemd/${unit}]])
    set(IOCGRID_BINDIR [[${CMAKE_INSTALL_BINDIR}]])" COMPONENT iocgrid)
  install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/install_systemd_unit.cmake COMPONENT iocgrid)
  install(FILES ${PROJECT_BINARY_DIR}/systemd/${unit} DESTINATION lib/systemd/system
    COMPONENT iocgrid)
endforeach()

set(CPACK_PACKAGE_NAME iocgrid)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "iocgrid")
set(IOCGRID_PACKAGE_CONTACT "iocgrid maintainers <root@localhost>" CACHE STRING
  "Maintainer field of the .deb")
set(CPACK_PACKAGE_CONTACT "${IOCGRID_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "federated indicator-of-compromise search: MISP-compatible member node and alliance portal")
# Debian's long description (after the summary line): lines of at most 80 columns.
string(JOIN "\n" CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "iocgrid lets the members of a threat-intelligence alliance search each other's"
  "data without pooling it. The node keeps a member's indicators in SQLite and"
  "answers a MISP-compatible REST API and the grid API; the portal fans an"
  "analyst's search out to every member (iocgrid nodes and plain MISP instances)"
  "and serves a web UI. Bundled: MISP warninglists and the demo alliance's data.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/package)
# RelWithDebInfo carries ~150 MB of DWARF; the package ships the stripped binary.
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Stage with DESTDIR so that CMAKE_INSTALL_PREFIX is /usr while installing (the units' ExecStart).
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from the binary itself (dpkg-shlibdeps, from dpkg-dev); the rest:
# adduser for the postinst's system user; sqlite3 for online backups; pdftotext for PDF reports.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "sqlite3")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "poppler-utils")
# postinst: the iocgrid system user, /etc/iocgrid and /var/lib/iocgrid; prerm/postrm: systemd.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
  ${PROJECT_SOURCE_DIR}/packaging/debian/prerm ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
