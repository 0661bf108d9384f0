# Install-time helper (install(SCRIPT)): writes a systemd unit whose ExecStart names the binary
# under the prefix actually being installed to. The source units name /usr/bin/iocgrid (the .deb).
# In: IOCGRID_UNIT_SRC, IOCGRID_UNIT_OUT, IOCGRID_BINDIR (set by install(CODE) just before).
file(READ "${IOCGRID_UNIT_SRC}" unit_text)
string(REPLACE "/usr/bin/iocgrid" "${CMAKE_INSTALL_PREFIX}/${IOCGRID_BINDIR}/iocgrid"
  unit_text "${unit_text}")
file(WRITE "${IOCGRID_UNIT_OUT}" "${unit_text}")
