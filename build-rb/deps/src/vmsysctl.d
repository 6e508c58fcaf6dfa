build-rb/src/vmsysctl.o: src/vmsysctl.c src/vmsysctl.h src/roots.h \
 src/util.h
src/vmsysctl.h:
src/roots.h:
src/util.h:
